/** The worker pool: real workers (started from .ts via tsx), the tiny model, errors and crashes. */
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableParallelism } from 'node:os';
import { defaultEngineWorkers, EnginePool } from '../../src/model/pool.js';
import type { StreamEngineOptions } from '../../src/model/stream-engine.js';
import { FIXTURES, crashingEngineWorker, deviceFaultEngineWorker, framesFor } from './helpers.js';

const MODEL = join(FIXTURES, 'tiny-random-1l');
const OPTIONS: StreamEngineOptions = {
  policy: 'streaming',
  limits: { textSinkTokens: 16, textWindowTokens: 32, windowSec: 4 },
  maxBytesPerStream: 16 << 20,
  prompt: '',
  sampling: { temperature: 0, topP: 1, repetitionPenalty: 1, seed: 1 },
  maxTokensPerSecond: 5,
  repetitionWindowTokens: 16,
};
const frames = (sec: number) => ({ startSec: sec, endSec: sec + 1, rgb: framesFor(sec, 2, 32, 32), frames: 2, width: 32, height: 32 });

describe('EnginePool', () => {
  let pool: EnginePool;
  beforeAll(async () => {
    pool = await EnginePool.create({ modelDir: MODEL, workers: 1 });
  });
  afterAll(() => pool?.destroy());

  it('runs stream-seconds in a worker, deterministically with greedy decoding', async () => {
    await pool.open('a', OPTIONS);
    await pool.open('b', OPTIONS);
    const a = await pool.step('a', frames(0));
    const b = await pool.step('b', frames(0));
    expect(a.text).toBe(b.text);
    expect(a.tokenIds.length).toBeLessThanOrEqual(5);
    expect(a.cache.tokens).toBeGreaterThan(0);
    const r = await pool.step('a', frames(1));
    expect(r.startSec).toBe(1);
  });

  it('rejects frames of the wrong size with a clear error and keeps serving', async () => {
    await expect(pool.step('a', { ...frames(2), width: 16, height: 16, rgb: new Uint8Array(16 * 16 * 6) })).rejects.toMatchObject({ code: 'bad_input' });
    await expect(pool.step('a', frames(2))).resolves.toMatchObject({ startSec: 2 });
  });
});

describe('EnginePool placement', () => {
  let pool: EnginePool;
  beforeAll(async () => {
    pool = await EnginePool.create({ modelDir: MODEL, workers: 2 });
  });
  afterAll(() => pool?.destroy());

  it('spreads streams opened together over the workers (they used to all land on worker 0)', async () => {
    const ids = ['p0', 'p1', 'p2', 'p3'];
    await Promise.all(ids.map((id) => pool.open(id, OPTIONS)));
    expect(pool.streamsPerWorker).toEqual([2, 2]);
    const results = await Promise.all(ids.map((id) => pool.step(id, frames(0))));
    expect(results.map((r) => r.startSec)).toEqual([0, 0, 0, 0]);
    await pool.close('p0');
    await pool.close('p2');
    await Promise.all(['p4', 'p5'].map((id) => pool.open(id, OPTIONS)));
    expect(pool.streamsPerWorker).toEqual([2, 2]);
  });

  it("reports each worker's own memory (for /metrics)", async () => {
    const memory = await pool.threadMemory();
    expect(memory.map((m) => m.worker)).toEqual([0, 1]);
    for (const { memory: m } of memory) expect(m.heapUsed).toBeGreaterThan(0);
  });

  it('admits by measured load: full device refuses with device_full, a closed stream makes room', async () => {
    const small = await EnginePool.create({ modelDir: MODEL, workers: 1, load: { initialStreamCost: 0.4, headroom: 0.8 } });
    try {
      small.admit('x1');
      small.admit('x2');
      expect(() => small.admit('x3')).toThrow(expect.objectContaining({ code: 'device_full', retryAfterSec: 10, message: expect.stringMatching(/^device cpu is full/) }));
      await small.open('x1', OPTIONS);
      expect(small.streamsPerWorker).toEqual([2]);
      await small.close('x2'); // admitted, never opened: its room comes back too
      small.admit('x3');
      await small.open('x3', OPTIONS);
      await expect(small.step('x3', frames(0))).resolves.toMatchObject({ startSec: 0 });
      expect(small.loadSnapshot().workers[0].streams).toBe(2);
    } finally {
      await small.destroy();
    }
  });

  it('defaults to one worker per core on the CPU and one on a GPU', () => {
    expect(defaultEngineWorkers('cpu')).toBe(availableParallelism());
    expect(defaultEngineWorkers('webgpu')).toBe(1);
  });
});

describe('EnginePool with a worker that dies', () => {
  let pool: EnginePool;
  const exits: { streams: string[]; error: Error }[] = [];
  beforeAll(async () => {
    // The real engine in a fixture worker whose thread dies with an uncaught error on its 3rd step.
    pool = await EnginePool.create({ modelDir: MODEL, workers: 1, workerUrl: crashingEngineWorker(3) });
    pool.on('workerExit', (e) => exits.push(e));
  });
  afterAll(() => pool?.destroy());

  it('reports a crashed worker, rejects its in-flight work, and serves reopened streams', async () => {
    await pool.open('a', OPTIONS);
    await pool.open('b', OPTIONS);
    await expect(pool.step('a', frames(0))).resolves.toMatchObject({ startSec: 0 });
    const inflight = pool.step('a', frames(1));
    const fatal = pool.step('b', frames(1)); // the worker's 3rd step: it dies when this arrives
    const [first, second] = await Promise.allSettled([inflight, fatal]);
    // The fatal request is rejected with the worker's own error; the one before it, unless it finished first.
    expect(second).toMatchObject({ status: 'rejected', reason: { code: 'worker_failed', message: expect.stringMatching(/crashed on step 3 \(b at 1s\)/) } });
    if (first.status === 'rejected') expect(first.reason).toMatchObject({ code: 'worker_failed' });
    expect(exits).toHaveLength(1);
    expect(exits[0].streams.sort()).toEqual(['a', 'b']);
    expect(exits[0].error).toMatchObject({ code: 'worker_failed' });
    expect(pool.isOpen('a')).toBe(false);
    expect(pool.isOpen('b')).toBe(false);
    await expect(Promise.resolve().then(() => pool.step('b', frames(2)))).rejects.toMatchObject({ code: 'worker_failed', message: expect.stringMatching(/not open/) });
    // A fresh worker takes the reopened stream (and counts its steps from zero).
    await pool.open('a', OPTIONS, [' Kick off.']);
    await expect(pool.step('a', frames(2))).resolves.toMatchObject({ startSec: 2 });
    await expect(pool.step('a', frames(3))).resolves.toMatchObject({ startSec: 3 });
    expect(exits).toHaveLength(1);
  });
});

describe('EnginePool with workers as child processes (how a GPU pool of several workers runs)', () => {
  let pool: EnginePool;
  const exits: { streams: string[]; error: Error }[] = [];
  beforeAll(async () => {
    pool = await EnginePool.create({ modelDir: MODEL, workers: 2, isolation: 'process' });
    pool.on('workerExit', (e) => exits.push(e));
  });
  afterAll(() => pool?.destroy());

  it('serves the same lines as threads; a killed process fails only its streams, which reopen on a fresh one', async () => {
    const pids = pool.workerProcessIds;
    expect(pids).toHaveLength(2);
    expect(pids).not.toContain(process.pid);
    const threads = await EnginePool.create({ modelDir: MODEL, workers: 1 });
    try {
      await threads.open('t', OPTIONS);
      await Promise.all(['a', 'b'].map((id) => pool.open(id, OPTIONS)));
      expect(pool.streamsPerWorker).toEqual([1, 1]);
      for (let sec = 0; sec < 3; sec++) {
        const [a, b, t] = await Promise.all([pool.step('a', frames(sec)), pool.step('b', frames(sec)), threads.step('t', frames(sec))]);
        expect(a.tokenIds).toEqual(t.tokenIds);
        expect(b.tokenIds).toEqual(t.tokenIds);
      }
      expect((await pool.threadMemory()).map((m) => m.worker)).toEqual([0, 1]);
    } finally {
      await threads.destroy();
    }
    process.kill(pids[0], 'SIGKILL');
    await expect.poll(() => exits.length).toBe(1);
    expect(exits[0].streams).toEqual(['a']);
    expect(exits[0].error).toMatchObject({ code: 'worker_failed' });
    await expect(pool.step('b', frames(3))).resolves.toMatchObject({ startSec: 3 });
    await pool.open('a', OPTIONS, [' Kick off.']);
    await expect(pool.step('a', frames(3))).resolves.toMatchObject({ startSec: 3 });
    expect(pool.workerProcessIds).toHaveLength(2);
    expect(pool.workerProcessIds).not.toContain(pids[0]);
  });

  it('a GPU pool of several workers runs them as processes by default, a CPU pool as threads', async () => {
    const cpu = await EnginePool.create({ modelDir: MODEL, workers: 2 });
    // Without a GPU here each webgpu worker falls back to the CPU, still in its own process.
    const gpu = await EnginePool.create({ modelDir: MODEL, workers: 2, device: 'webgpu' });
    try {
      expect(cpu.workerProcessIds).toEqual([]);
      expect(gpu.workerProcessIds).toHaveLength(2);
    } finally {
      await Promise.all([cpu.destroy(), gpu.destroy()]);
    }
  });
});

describe('EnginePool with a device fault', () => {
  let pool: EnginePool;
  const exits: { streams: string[]; error: Error }[] = [];
  beforeAll(async () => {
    pool = await EnginePool.create({ modelDir: MODEL, workers: 1, workerUrl: deviceFaultEngineWorker(2) });
    pool.on('workerExit', (e) => exits.push(e));
  });
  afterAll(() => pool?.destroy());

  it('a runtime failure in a shared call fails every stream of the worker with worker_failed, and they reopen', async () => {
    await pool.open('a', OPTIONS);
    await pool.open('b', OPTIONS);
    await expect(pool.step('a', frames(0))).resolves.toMatchObject({ startSec: 0 });
    // The 2nd vision call fails (both streams' frames share it): the worker dies rather than answer from
    // a runtime in an unknown state, so both streams get worker_failed (sessions reopen from transcripts).
    const settled = await Promise.allSettled([pool.step('a', frames(1)), pool.step('b', frames(1))]);
    for (const s of settled) {
      expect(s).toMatchObject({ status: 'rejected', reason: { code: 'worker_failed', message: expect.stringMatching(/device lost on vision run 2/) } });
    }
    expect(exits).toHaveLength(1);
    expect(exits[0].streams.sort()).toEqual(['a', 'b']);
    await pool.open('a', OPTIONS, [' Kick off.']);
    await pool.open('b', OPTIONS);
    await expect(pool.step('a', frames(1))).resolves.toMatchObject({ startSec: 1 });
  });
});

describe('model folder errors', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sightline-model-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('names a missing folder', async () => {
    await expect(EnginePool.create({ modelDir: join(dir, 'nope') })).rejects.toThrow(/model folder .*nope: not found/);
  });

  it('names a missing file', async () => {
    const m = join(dir, 'no-decoder');
    cpSync(MODEL, m, { recursive: true });
    rmSync(join(m, 'decoder.onnx'));
    await expect(EnginePool.create({ modelDir: m })).rejects.toMatchObject({ code: 'model_invalid', message: expect.stringMatching(/decoder\.onnx is missing/) });
  });

  it('names a malformed config field', async () => {
    const m = join(dir, 'bad-config');
    cpSync(MODEL, m, { recursive: true });
    writeFileSync(join(m, 'config.json'), JSON.stringify({ format: 'sightline-streaming-vlm', formatVersion: 1, name: 'x' }));
    await expect(EnginePool.create({ modelDir: m })).rejects.toThrow(/config\.json is malformed: decoder/);
  });

  it('names a corrupt graph', async () => {
    const m = join(dir, 'bad-graph');
    cpSync(MODEL, m, { recursive: true });
    writeFileSync(join(m, 'vision.onnx'), 'this is not an onnx file');
    await expect(EnginePool.create({ modelDir: m, workers: 1 })).rejects.toMatchObject({ code: 'model_invalid', message: expect.stringMatching(/vision\.onnx cannot be loaded/) });
  });

  it('refuses an execution provider this build lacks', async () => {
    await expect(EnginePool.create({ modelDir: MODEL, provider: 'no-such-ep' })).rejects.toMatchObject({ code: 'provider_unavailable' });
  });

  it('reports a listed provider that cannot start (cuda without CUDA libraries) as provider_unavailable', async () => {
    const cudaPresent = existsSync('/usr/local/cuda') || !!process.env.CUDA_PATH;
    if (cudaPresent) return; // a host with CUDA may really start it
    await expect(EnginePool.create({ modelDir: MODEL, workers: 1, provider: 'cuda' })).rejects.toMatchObject({
      code: 'provider_unavailable',
      message: expect.stringMatching(/execution provider "cuda" failed to start/),
    });
  });
});
