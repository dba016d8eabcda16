/** WorkerChannel, the main-thread side of every src/model worker, against a tiny fixture worker (echo.worker.ts). */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { SightlineError } from '../../src/errors.js';
import { WorkerChannel } from '../../src/model/worker-channel.js';
import { SEMI_SPACE_MB } from '../../src/model/worker-start.js';

const URL_ = new URL('./echo.worker.ts', import.meta.url);
type Echoed = { type: 'echoed'; seq: number; value: number };
const open: WorkerChannel<{ type: 'ready' }, Echoed>[] = [];

function channel(o: { fatal?: boolean; maxQueued?: number; onExit?: (e: SightlineError) => void } = {}) {
  const c = new WorkerChannel<{ type: 'ready' }, Echoed>(URL_, { fatal: o.fatal }, { name: 'echo worker', maxQueued: o.maxQueued ?? 8, onExit: o.onExit });
  open.push(c);
  return c;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.terminate()));
});

describe('WorkerChannel', () => {
  it('answers each request by its seq, rejects error answers with their code, ignores stray messages', async () => {
    const c = channel();
    await expect(c.ready).resolves.toMatchObject({ type: 'ready', name: 'echo' });
    const slow = c.request({ type: 'echo', seq: 0, value: 1, delayMs: 50 });
    const fast = c.request({ type: 'echo', seq: 0, value: 2 });
    c.post({ type: 'stray' });
    expect((await fast).value).toBe(2);
    expect((await slow).value).toBe(1);
    await expect(c.request({ type: 'fail', seq: 0 })).rejects.toMatchObject({ code: 'bad_input', message: 'fixture says no' });
  });

  it('asks the worker for its own heap figures (what /metrics shows per thread)', async () => {
    const c = channel();
    await c.ready;
    const m = await c.memory();
    expect(m.heapUsed).toBeGreaterThan(0);
    expect(m.heapUsed).toBeLessThanOrEqual(m.heapTotal);
    expect(m.arrayBuffers).toBeLessThanOrEqual(m.external);
    // The worker's own isolate, not the main thread's: a buffer held here does not show there.
    const held = new Uint8Array(64 << 20).fill(1);
    expect((await c.memory()).arrayBuffers).toBeLessThan(held.byteLength);
  });

  it('a worker thread keeps its young generation small however much it allocates (V8 would grow it to 16 MB)', async () => {
    const c = channel();
    await c.ready;
    const newSpaceBytes = (await c.request({ type: 'churn', seq: 0 })).value;
    expect(newSpaceBytes).toBeGreaterThan(0);
    expect(newSpaceBytes).toBeLessThanOrEqual(2 * SEMI_SPACE_MB * 2 ** 20);
  });

  it('the main thread gets the same semi-space size as the workers from the sightline command and npm start', () => {
    const flag = `--max-semi-space-size=${SEMI_SPACE_MB}`;
    const root = new URL('../../', import.meta.url);
    expect(readFileSync(new URL('src/cli.ts', root), 'utf8').split('\n', 1)[0].split(/\s+/)).toContain(flag);
    expect(JSON.parse(readFileSync(new URL('package.json', root), 'utf8')).scripts.start.split(/\s+/)).toContain(flag);
  });

  it('refuses requests past maxQueued with rate_limited', async () => {
    const c = channel({ maxQueued: 1 });
    await c.ready;
    const first = c.request({ type: 'echo', seq: 0, value: 1, delayMs: 50 });
    await expect(c.request({ type: 'echo', seq: 0, value: 2 })).rejects.toMatchObject({ code: 'rate_limited' });
    expect((await first).value).toBe(1);
  });

  it('a crash rejects what is in flight and every later request with worker_failed, and is reported once', async () => {
    const exits: SightlineError[] = [];
    const c = channel({ onExit: (e) => exits.push(e) });
    await c.ready;
    const inflight = c.request({ type: 'echo', seq: 0, value: 1, delayMs: 5_000 });
    c.post({ type: 'crash' });
    await expect(inflight).rejects.toMatchObject({ code: 'worker_failed', message: expect.stringMatching(/echo worker failed: fixture crash/) });
    expect(c.dead).toBe(true);
    await expect(c.request({ type: 'echo', seq: 0, value: 2 })).rejects.toMatchObject({ code: 'worker_failed' });
    expect(exits).toHaveLength(1);
  });

  it('a worker that cannot start rejects ready with its fatal error', async () => {
    await expect(channel({ fatal: true }).ready).rejects.toMatchObject({ code: 'model_invalid', message: 'fixture refuses to start' });
  });

  it('terminate(reason) rejects what is in flight, and later requests, with the reason', async () => {
    const c = channel();
    await c.ready;
    const inflight = c.request({ type: 'echo', seq: 0, value: 1, delayMs: 5_000 });
    await c.terminate(new SightlineError('worker_failed', 'closed by the test'));
    await expect(inflight).rejects.toThrow('closed by the test');
    await expect(c.request({ type: 'echo', seq: 0 })).rejects.toThrow('closed by the test');
  });
});
