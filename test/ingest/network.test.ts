import { execFile } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join, normalize } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ffmpegPath } from '../../src/ingest/ffmpeg-binary.js';
import { openSource, runningFfmpegCount } from '../../src/ingest/index.js';
import { collect } from './collect.js';
import { freeTcpPort, freeUdpPort, startLiveProducer, type LiveProducer } from './live-producer.js';
import { MEDIA_DIR, testsrc20Ts } from './media.js';
import { requireProtocol } from './protocol-producers.js';

/** Loopback static file server for HLS and progressive HTTP (no Range support needed for TS). */
let server: Server;
let baseUrl = '';
const hlsDir = join(MEDIA_DIR, 'hls');
beforeAll(async () => {
  if (!existsSync(join(hlsDir, 'index.m3u8'))) {
    mkdirSync(hlsDir, { recursive: true });
    await promisify(execFile)(ffmpegPath(), [
      '-hide_banner', '-loglevel', 'error', '-nostdin', '-y', '-i', await testsrc20Ts(),
      '-c', 'copy', '-f', 'hls', '-hls_time', '2', '-hls_playlist_type', 'vod', join(hlsDir, 'index.m3u8'),
    ]);
  }
  server = createServer((req, res) => {
    const path = normalize(join(MEDIA_DIR, decodeURIComponent(new URL(req.url!, 'http://x').pathname)));
    if (!path.startsWith(MEDIA_DIR) || !existsSync(path)) return void res.writeHead(404).end();
    res.writeHead(200);
    createReadStream(path).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const producers: LiveProducer[] = [];
afterEach(async () => {
  for (const p of producers.splice(0)) await p.kill();
  expect(runningFfmpegCount()).toBe(0);
});

describe('ingest: network sources over loopback', () => {
  it('HLS playlist over http: all 40 frames of a 20 s VOD, then ended', async () => {
    const source = openSource(`${baseUrl}/hls/index.m3u8`);
    const { chunks, error } = await collect(source);
    expect(error).toBeUndefined();
    expect(chunks.flatMap((c) => c.frames)).toHaveLength(40);
    expect(source.stats().state).toBe('ended');
  });

  it('progressive MPEG-TS over http', async () => {
    const { chunks, error } = await collect(openSource(`${baseUrl}/testsrc-20s.ts`, { seconds: 5 }));
    expect(error).toBeUndefined();
    expect(chunks.map((c) => c.frames.length)).toEqual([2, 2, 2, 2, 2]);
  });

  it('http 404 -> source_not_found naming the URL', async () => {
    const url = `${baseUrl}/missing.m3u8`;
    const { error } = await collect(openSource(url));
    expect(error).toMatchObject({ code: 'source_not_found' });
    expect((error as Error).message).toMatch(/not found \(Server returned 404 Not Found\)/);
    expect((error as Error).message.startsWith(`${url}: `)).toBe(true);
  });

  /** The npm fallback ffmpeg (static 4.1) is built without libsrt: the srt case then fails, naming it. */
  const liveCases: Array<[string, () => Promise<string>]> = [
    ['rtmp', async () => `rtmp://127.0.0.1:${await freeTcpPort()}/live/cam`],
    ['srt', async () => `srt://127.0.0.1:${await freeUdpPort()}`],
  ];
  it.each(liveCases)('%s live stream (producer listens, ingest connects)', async (scheme, makeUrl) => {
    requireProtocol(scheme);
    const url = await makeUrl();
    producers.push(startLiveProducer(url));
    await new Promise((r) => setTimeout(r, 500)); // let the producer start listening
    const source = openSource(url, { seconds: 2, ioTimeoutMs: 3000 });
    const { chunks, error } = await collect(source);
    expect(error).toBeUndefined();
    expect(chunks.map((c) => [c.startSec, c.frames.length])).toEqual([[0, 2], [1, 2]]);
  });
});
