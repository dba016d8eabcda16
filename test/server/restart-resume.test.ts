/**
 * A server killed with SIGKILL mid-stream and started again resumes its streams: real sessions and ingest
 * (fake engine), a file source and a live UDP source.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type RunningServer } from '../../src/server/app.js';
import { createLogger } from '../../src/server/logger.js';
import { sessionFactory } from '../../src/server/session-runner.js';
import { TranscriptStore } from '../../src/server/transcript-store.js';
import { testsrc60Mp4 } from '../ingest/media.js';
import { firstDatagram, freeUdpPort, startLiveProducer, type LiveProducer } from '../ingest/live-producer.js';
import { fakeEngine, fakePools } from '../stream/fake-engine.js';
import { postJson, tempDir, waitFor, wsClient } from './helpers.js';
import { isSkippedGap } from '../../src/stream/events.js';

let server: RunningServer | undefined;
const producers: LiveProducer[] = [];
afterEach(async () => {
  await server?.close();
  server = undefined;
  for (const p of producers.splice(0)) await p.kill();
});

/** Runs the fixture server, creates a stream of `source`, waits for `seconds` transcript lines, kills -9. */
async function crashAfter(dataDir: string, root: string, source: string, seconds: number): Promise<string> {
  const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'session-server.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, dataDir, root], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((r) => child.once('exit', r));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout!.once('data', (d) => resolve(d.toString().trim()));
      child.once('exit', (code) => reject(new Error(`fixture exited ${code}`)));
    });
    const res = await postJson(url, '/v1/streams', { source });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    const store = new TranscriptStore(dataDir);
    await waitFor(() => store.readSegments(id).length >= seconds, 60_000, 'transcript lines');
    return id;
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
}

async function restart(dataDir: string, root: string) {
  const engine = fakeEngine();
  const logs: any[] = [];
  server = await createServer({
    factory: sessionFactory({ pools: fakePools(engine), ingest: { ioTimeoutMs: 3000 } }),
    dataDir,
    port: 0,
    logger: createLogger('info', (l) => logs.push(JSON.parse(l))),
    policy: { fileRoots: [root], allowLoopback: true },
  });
  await Promise.all(server.manager.resuming);
  return { engine, logs };
}

describe('restart after kill -9', () => {
  it('a file stream resumes where it was: previous text restored, no second lost or doubled, meta never left at starting', async () => {
    const dataDir = tempDir();
    const root = tempDir('sightline-media-');
    fs.copyFileSync(await testsrc60Mp4(), path.join(root, 'clip.mp4'));
    const id = await crashAfter(dataDir, root, 'clip.mp4', 3);
    const metaFile = path.join(dataDir, 'streams', id, 'meta.json');
    expect(JSON.parse(fs.readFileSync(metaFile, 'utf8')).state).toBe('live');
    const before = new TranscriptStore(dataDir).readSegments(id);

    const { engine, logs } = await restart(dataDir, root);
    expect(engine.opened).toEqual([{ id, previousTexts: before.map((s) => s.text) }]);
    expect(JSON.parse(fs.readFileSync(metaFile, 'utf8')).state).toBe('live');
    const viewer = wsClient(`${server!.url.replace('http', 'ws')}/v1/streams/${id}/ws`);
    await waitFor(() => viewer.messages.filter((m) => m.type === 'commentary').length >= before.length + 2, 30_000, 'resumed commentary');
    const starts = viewer.messages.filter((m) => m.type === 'commentary').map((m) => m.start);
    expect(starts).toEqual(starts.map((_, i) => i));
    // The file was sought to where the transcript ended: the fake engine saw that second first.
    expect(engine.steps[0]).toBe(before.at(-1)!.end);
    expect(viewer.messages.some((m) => m.type === 'gap' && !isSkippedGap(m.reason))).toBe(false);
    expect(logs.find((l) => l.msg === 'stream resumed' && l.stream === id)).toBeDefined();
    const listed = (await (await fetch(`${server!.url}/v1/streams/${id}`)).json()) as any;
    expect(listed.state).toBe('live');
    expect(listed.resumedAt).toEqual(expect.any(String));
    viewer.ws.close();
  }, 120_000);

  it('a live stream whose source is also down at restart keeps retrying, resumes when it returns, the downtime marked as a gap', async () => {
    const dataDir = tempDir();
    const root = tempDir('sightline-media-');
    const port = await freeUdpPort();
    const url = `udp://127.0.0.1:${port}`;
    const producer = startLiveProducer(url);
    producers.push(producer);
    await firstDatagram(port);
    const id = await crashAfter(dataDir, root, url, 2);
    const before = new TranscriptStore(dataDir).readSegments(id);
    await producer.kill(); // the camera went down with the server

    await restart(dataDir, root);
    const viewer = wsClient(`${server!.url.replace('http', 'ws')}/v1/streams/${id}/ws`);
    // The first connection fails (nothing sends): a resumed live stream retries, as after a drop, rather than failing.
    await waitFor(() => viewer.messages.find((m) => m.type === 'status' && m.state === 'reconnecting' && m.attempt >= 1), 60_000, 'reconnecting');
    expect(viewer.messages.some((m) => m.type === 'end')).toBe(false);
    producers.push(startLiveProducer(url));
    const first = await waitFor(() => viewer.messages.find((m) => m.type === 'commentary' && m.start >= before.at(-1)!.end), 60_000, 'resumed commentary');
    const gap = viewer.messages.find((m) => m.type === 'gap' && !isSkippedGap(m.reason));
    expect(gap).toMatchObject({ start: before.at(-1)!.end, end: first.start });
    expect(gap.end).toBeGreaterThan(gap.start);
    expect(gap.reason).toMatch(/server restarted/);
    expect(viewer.messages.indexOf(gap)).toBeLessThan(viewer.messages.indexOf(first));
    viewer.ws.close();
  }, 120_000);
});
