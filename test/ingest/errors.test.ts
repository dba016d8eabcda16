import { createServer, type Server, type Socket } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSightlineError, type ErrorCode } from '../../src/errors.js';
import { openSource, runningFfmpegCount, type IngestOptions } from '../../src/ingest/index.js';
import { collect } from './collect.js';
import { freeUdpPort } from './live-producer.js';
import { MEDIA_DIR, audioOnly, testsrc60Mp4 } from './media.js';

/** Opens the source, expects it to fail with `code` and a one-line message naming the source. */
async function expectFailure(source: string, code: ErrorCode, options: IngestOptions = {}): Promise<string> {
  const frames = openSource(source, options);
  const states: string[] = [];
  frames.on('state', (s) => states.push(s));
  const { chunks, error } = await collect(frames);
  expect(chunks).toEqual([]);
  expect(isSightlineError(error), String(error)).toBe(true);
  const err = error as { code: string; message: string };
  expect({ code: err.code, message: err.message }).toMatchObject({ code });
  expect(err.message.startsWith(`${source}: `)).toBe(true);
  expect(err.message).not.toContain('\n');
  expect(states.at(-1)).toBe('failed');
  expect(frames.stats().state).toBe('failed');
  expect(runningFfmpegCount()).toBe(0);
  return err.message;
}

/** Loopback TCP server that accepts connections and never says a word (for timeouts). */
let silent: Server;
const held: Socket[] = [];
beforeAll(async () => {
  silent = createServer((socket) => held.push(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
});
afterAll(async () => {
  for (const socket of held) socket.destroy();
  await new Promise((resolve) => silent.close(resolve));
});
const silentPort = () => (silent.address() as { port: number }).port;

/** A loopback TCP port with nobody listening. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('ingest: bad sources give one clear error', () => {
  it('missing file -> source_not_found', async () => {
    const message = await expectFailure(join(MEDIA_DIR, 'does-not-exist.mp4'), 'source_not_found');
    expect(message).toMatch(/not found/);
  });

  it('text file -> source_not_video', async () => {
    const path = join(MEDIA_DIR, 'notes.txt');
    writeFileSync(path, 'this is not a video\n'.repeat(50));
    expect(await expectFailure(path, 'source_not_video')).toMatch(/not a video/);
  });

  it('text file with a video extension -> source_not_video', async () => {
    const path = join(MEDIA_DIR, 'fake.mp4');
    writeFileSync(path, 'still not a video\n'.repeat(50));
    await expectFailure(path, 'source_not_video');
  });

  it('audio-only file -> source_no_video_stream', async () => {
    expect(await expectFailure(await audioOnly(), 'source_no_video_stream')).toMatch(/no video stream/);
  });

  it('truncated mp4 (index lost) -> source_corrupt', async () => {
    const path = join(MEDIA_DIR, 'truncated.mp4');
    writeFileSync(path, readFileSync(await testsrc60Mp4()).subarray(0, 200_000));
    expect(await expectFailure(path, 'source_corrupt')).toMatch(/corrupt/);
  });

  it('unknown scheme -> source_unknown_protocol', async () => {
    expect(await expectFailure('gopherz://127.0.0.1/video', 'source_unknown_protocol')).toMatch(/unknown protocol/);
  });

  it.each(['http', 'rtsp', 'rtmp'])('%s to a closed loopback port -> source_unreachable', async (scheme) => {
    const port = await closedPort();
    const message = await expectFailure(`${scheme}://127.0.0.1:${port}/live/cam`, 'source_unreachable');
    expect(message).toMatch(/unreachable/);
  });

  it.each(['http', 'rtsp'])('%s server that accepts and never answers -> source_timeout', async (scheme) => {
    const message = await expectFailure(`${scheme}://127.0.0.1:${silentPort()}/stream`, 'source_timeout', { ioTimeoutMs: 800 });
    // What fired is a limit set here: ffmpeg's I/O timeout (its own "connection timed out", or our reading
    // of a generic error after it), or the first-frame watchdog (I/O + 5 s); not a default (5 s I/O,
    // 10 s first frame) and not the test's own timeout.
    expect(message).toMatch(/: (connection timed out|timed out \((no answer within 0\.8 s|no video for 5\.8 s)\))$/);
  });

  it('udp port with nothing sending -> source_timeout', async () => {
    const port = await freeUdpPort();
    await expectFailure(`udp://127.0.0.1:${port}`, 'source_timeout', { ioTimeoutMs: 800 });
  });
});
