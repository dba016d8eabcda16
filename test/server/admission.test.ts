/**
 * Admission through the server (issue 19, "Fair under load"): a device measured full answers 503 with
 * Retry-After and one message naming the device and its load; it admits again when load falls; the
 * operator's `maxLiveStreams` limit; a stream slower than real time shows its skipped seconds in its status
 * and in /metrics. Real sessions and ingest on a fake engine; load on a fake clock, no timing assertions.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DeviceLoad } from '../../src/model/device-load.js';
import { createServer, type RunningServer } from '../../src/server/app.js';
import { createLogger } from '../../src/server/logger.js';
import { sessionFactory } from '../../src/server/session-runner.js';
import { testsrc60Mp4 } from '../ingest/media.js';
import { fakeEngine, fakePools, type FakeEngine } from '../stream/fake-engine.js';
import { postJson, startServer, tempDir, waitFor } from './helpers.js';

let server: RunningServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function sessionServer(engine: FakeEngine, load?: DeviceLoad): Promise<RunningServer> {
  const root = tempDir('sightline-media-');
  fs.copyFileSync(await testsrc60Mp4(), path.join(root, 'clip.mp4'));
  return createServer({
    factory: sessionFactory({ pools: fakePools(engine), ingest: { ioTimeoutMs: 3000 } }),
    dataDir: tempDir(),
    port: 0,
    logger: createLogger('silent'),
    policy: { fileRoots: [root] },
    ...(load ? { engineLoad: () => [{ device: 'cpu', load: load.snapshot() }] } : {}),
  });
}

const create = (s: RunningServer) => postJson(s.url, '/v1/streams', { source: 'clip.mp4' });
const idOf = async (res: Response) => ((await res.json()) as { id: string }).id;
const listed = async (s: RunningServer) => ((await (await fetch(`${s.url}/v1/streams`)).json()) as { streams: unknown[] }).streams.length;

describe('admission by measured load', () => {
  it('answers 503 + Retry-After when the device is full, and admits again when load falls', async () => {
    let nowMs = 0;
    const load = new DeviceLoad({ workers: 1, windowMs: 10_000, headroom: 0.8, initialStreamCost: 0.4, now: () => nowMs });
    const advance = (ms: number) => (nowMs += ms);
    const engine = fakeEngine({ load });
    server = await sessionServer(engine, load);

    // Nothing measured yet: the initial estimate (0.4 a stream, headroom 0.8) admits two on one worker.
    const a = await create(server);
    const b = await create(server);
    expect([a.status, b.status]).toEqual([201, 201]);
    const [idA] = [await idOf(a), await idOf(b)];
    const refused = await create(server);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('10');
    const body = (await refused.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('device_full');
    expect(body.error.message).toMatch(/^device cpu is full: its 1 engine worker .*0\.80 planned with 2 streams; .*0\.40 \(initial estimate/);
    expect(await listed(server)).toBe(2); // a refused stream is neither stored nor listed

    // Measured: each stream costs 0.1 of the worker, so a third fits.
    await waitFor(() => engine.opened.length === 2, 10_000, 'both streams open');
    engine.runFor(10, 100, advance);
    const c = await create(server);
    expect(c.status).toBe(201);
    await waitFor(() => engine.opened.length === 3, 10_000, 'third stream open');

    // The streams get expensive: 3 x 0.26 = 0.78 busy, one more would pass 0.8.
    engine.runFor(10, 260, advance);
    const full = await create(server);
    expect(full.status).toBe(503);
    expect(full.headers.get('retry-after')).toBe('10');
    expect(((await full.json()) as { error: { message: string } }).error.message).toMatch(/0\.78 busy .* 3 streams; one more stream is expected to cost 0\.26 \(the mean of its streams\)/);

    // /metrics shows what admission measured.
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/^sightline_engine_worker_busy_ratio\{device="cpu",worker="0"\} 0\.78\d*$/m);
    expect(metrics).toMatch(/^sightline_engine_worker_streams\{device="cpu",worker="0"\} 3$/m);

    // Load falls when a stream stops: admitted again.
    expect((await fetch(`${server.url}/v1/streams/${idA}`, { method: 'DELETE' })).status).toBe(200);
    const again = await create(server);
    expect(again.status).toBe(201);
  });

  it("keeps the operator's limit on live streams (serve --max-streams): 503 stream_limit until one stops", async () => {
    const s = await startServer({ maxLiveStreams: 2 });
    server = s;
    const ids = [await idOf(await postJson(s.url, '/v1/streams', { source: 'match.mp4' })), await idOf(await postJson(s.url, '/v1/streams', { source: 'match.mp4' }))];
    const res = await postJson(s.url, '/v1/streams', { source: 'match.mp4' });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('30');
    expect(((await res.json()) as any).error).toMatchObject({ code: 'stream_limit', message: expect.stringMatching(/at most 2 live streams \(serve --max-streams\)/) });
    await fetch(`${s.url}/v1/streams/${ids[0]}`, { method: 'DELETE' });
    expect((await postJson(s.url, '/v1/streams', { source: 'match.mp4' })).status).toBe(201);
  });

  it('has no fixed cap by default (the old 8)', async () => {
    const s = await startServer({ rateLimit: { burst: 20 } }, { intervalMs: 3_600_000 });
    server = s;
    const statuses = [];
    for (let i = 0; i < 10; i++) statuses.push((await postJson(s.url, '/v1/streams', { source: 'match.mp4' })).status);
    expect(statuses.every((st) => st === 201)).toBe(true);
  });
});

describe('a stream slower than real time', () => {
  it('shows lagging and its skipped seconds in its status and in /metrics', async () => {
    // Each second takes 2.5 s on the engine: the session skips the oldest waiting seconds (skip 'oldest').
    server = await sessionServer(fakeEngine({ stepMs: 2500 }));
    const id = await idOf(await create(server));
    const info = await waitFor(
      async () => {
        const s = (await (await fetch(`${server!.url}/v1/streams/${id}`)).json()) as { state: string; stats?: { skippedSeconds: number } };
        return (s.stats?.skippedSeconds ?? 0) > 0 ? s : undefined;
      },
      30_000,
      'skipped seconds',
    );
    expect(info.state).toBe('lagging');
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    const perStream = Number(new RegExp(`^sightline_stream_skipped_seconds_total\\{stream="${id}"\\} (\\d+)$`, 'm').exec(metrics)?.[1]);
    const total = Number(/^sightline_skipped_seconds_total (\d+)$/m.exec(metrics)?.[1]);
    expect(perStream).toBeGreaterThanOrEqual(info.stats!.skippedSeconds);
    expect(total).toBe(perStream);
  });
});
