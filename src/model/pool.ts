/**
 * The one owner of engine workers. Streams are pinned to the worker with the least measured load (their KV
 * cache lives there; see device-load.ts); `admit` refuses a stream the device has no room for, with
 * `device_full`. Each request is answered once. A worker that dies rejects its in-flight requests with
 * `worker_failed`, forgets its streams (they must be reopened, e.g. from their transcript) and is
 * replaced by a fresh worker on the next open.
 */
import { EventEmitter } from 'node:events';
import { availableParallelism } from 'node:os';
import { SightlineError } from '../errors.js';
import type { ModelConfig } from './config.js';
import { loadModelFolder, type ModelFolder } from './model-folder.js';
import type { FromWorker, ToWorker, WorkerInit } from './protocol.js';
import { checkProvider } from './providers.js';
import { DeviceLoad, deviceFullError, type DeviceLoadOptions, type LoadSnapshot } from './device-load.js';
import type { ThreadMemory } from './thread-memory.js';
import { WorkerChannel } from './worker-channel.js';
import type { WorkerIsolation } from './worker-start.js';
import type { SecondResult, StreamEngineOptions } from './stream-engine.js';

export interface EnginePoolOptions {
  modelDir: string;
  /**
   * Engine workers (default `defaultEngineWorkers(provider)`: one per core on the CPU, one on a GPU). Each
   * runs one stream-second at a time on one core.
   */
  workers?: number;
  /** Execution provider; default from the model's config.json (cpu). */
  provider?: string;
  /**
   * `webgpu`: WebGPU provider with every stream's K/V in GPU memory (one worker owns the GPU unless
   * `workers` says otherwise); falls back to the CPU with a notice when no GPU adapter exists.
   */
  device?: 'cpu' | 'webgpu';
  /** Where K/V live (default: device on webgpu, host on cpu). */
  kv?: 'host' | 'device';
  /** onnxruntime threads per worker (default 1: workers, not threads, give the parallelism). */
  intraOpThreads?: number;
  /**
   * Batch the model calls of a worker's streams (default true; needs a format-2 model with host K/V, else
   * each stream runs its own calls). Off: the pre-batching behaviour, kept for comparisons.
   */
  batching?: boolean;
  /**
   * Workers as threads of this process or as child processes (default: processes for a GPU pool of more than
   * one worker, where each needs its own device: two WebGPU workers in one process crash onnxruntime 1.30;
   * threads otherwise).
   */
  isolation?: WorkerIsolation;
  /** Requests waiting per worker before new ones are refused (default 64). */
  maxQueuedPerWorker?: number;
  /**
   * The module each worker thread runs (default: `engine.worker` next to this file, .js when built, .ts
   * under tsx/vitest). It must speak the protocol in protocol.ts with `WorkerInit` as its workerData, e.g.
   * a wrapper that preloads instrumentation and then imports the engine worker. A `.ts` URL is started
   * through tsx.
   */
  workerUrl?: URL;
  /**
   * Admission and placement by measured load (docs/engine.md, "Admission"): window, headroom, the initial
   * cost estimate, a clock for tests. Streams per worker are also capped at `maxQueuedPerWorker`.
   */
  load?: Omit<DeviceLoadOptions, 'workers'>;
}

export interface FramesMessage {
  startSec: number;
  endSec: number;
  rgb: Uint8Array;
  frames: number;
  width: number;
  height: number;
}

type Ready = Extract<FromWorker, { type: 'ready' }>;
type Answer = Extract<FromWorker, { type: 'result' | 'done' }>;

interface Slot {
  channel: WorkerChannel<Ready, Answer>;
  info?: { provider: string; kv: string; notice?: string };
}

/**
 * Workers a pool starts when not told: one per core on the CPU (`os.availableParallelism()`: the cores this
 * process may run on), one on a GPU (one worker owns the device; its streams interleave second by second).
 * Each CPU worker runs onnxruntime with one intra-op thread, so N workers use N cores; measured on 16 cores,
 * 16 workers in one process serve as many stream-seconds as 16 separate processes (docs/engine.md, "Cores").
 */
export function defaultEngineWorkers(provider: string): number {
  return provider === 'cpu' ? Math.max(1, availableParallelism()) : 1;
}

/** engine.worker.js next to the built pool.js, engine.worker.ts next to the source under vitest/tsx. */
const ENGINE_WORKER_URL = new URL(`./engine.worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

export class EnginePool extends EventEmitter {
  private readonly slots: (Slot | undefined)[];
  private readonly byStream = new Map<string, Slot>();
  private readonly load: DeviceLoad;
  private closed = false;

  private constructor(
    readonly folder: ModelFolder,
    private readonly init: WorkerInit,
    private readonly maxQueued: number,
    workers: number,
    private readonly workerUrl: URL,
    private readonly isolation: WorkerIsolation,
    load: Omit<DeviceLoadOptions, 'workers'> = {},
  ) {
    super();
    this.slots = new Array(workers).fill(undefined);
    this.load = new DeviceLoad({ maxStreamsPerWorker: maxQueued, ...load, workers });
  }

  /** Validate the folder and provider here, then start the workers and wait until each has loaded. */
  static async create(options: EnginePoolOptions): Promise<EnginePool> {
    const folder = loadModelFolder(options.modelDir);
    const provider = options.device ?? options.provider ?? folder.config.runtime.executionProvider;
    await checkProvider(provider);
    const workers = options.workers ?? defaultEngineWorkers(provider);
    const init: WorkerInit = { folder, provider, intraOpThreads: options.intraOpThreads ?? 1, kv: options.kv, batching: options.batching ?? true };
    const isolation = options.isolation ?? (provider !== 'cpu' && workers > 1 ? 'process' : 'thread');
    const pool = new EnginePool(folder, init, options.maxQueuedPerWorker ?? 64, workers, options.workerUrl ?? ENGINE_WORKER_URL, isolation, options.load);
    try {
      await Promise.all(pool.slots.map((_, i) => pool.slot(i).channel.ready));
    } catch (err) {
      await pool.destroy();
      throw err;
    }
    return pool;
  }

  get config(): ModelConfig {
    return this.folder.config;
  }

  /** What the workers run on: the provider and K/V residence, and a notice if the requested device was not used. */
  get device(): { provider: string; kv: string; notice?: string } {
    const info = this.slots.find((s) => s?.info)?.info;
    return info ?? { provider: this.init.provider, kv: this.init.kv ?? 'host' };
  }

  /**
   * Claims room for a stream about to open: pins it to the worker with the least measured load that can take
   * one more stream within the headroom, or throws `device_full` (naming the device and its load) and changes
   * nothing. The next `open` of this id uses that worker; `close` gives the room back. Opening without
   * admitting never refuses (benches, resumed streams).
   */
  admit(streamId: string): void {
    if (this.byStream.has(streamId) || this.load.workerOf(streamId) !== undefined) return;
    if (this.load.admit(streamId) === undefined) throw deviceFullError(this.device.provider, this.load.snapshot());
  }

  async open(streamId: string, options: StreamEngineOptions, previousTexts: string[] = []): Promise<void> {
    if (this.byStream.has(streamId)) await this.close(streamId);
    // Pick and claim the worker in one synchronous block: opens started together (a bench, a restart that
    // resumes every live stream) would otherwise all see the same loads and pile onto worker 0.
    const best = this.load.workerOf(streamId) ?? this.load.place(streamId);
    const slot = this.slot(best);
    this.byStream.set(streamId, slot);
    try {
      await slot.channel.ready;
      await this.request(slot, { type: 'open', seq: 0, streamId, options, previousTexts });
    } catch (err) {
      if (this.byStream.get(streamId) === slot) {
        this.byStream.delete(streamId);
        this.load.remove(streamId);
      }
      throw err;
    }
  }

  step(streamId: string, f: FramesMessage): Promise<SecondResult> {
    const slot = this.slotOf(streamId);
    // Copy into a buffer we own so it can be transferred without detaching the caller's frames.
    const rgb = f.rgb.slice().buffer;
    const msg: ToWorker = { type: 'step', seq: 0, streamId, startSec: f.startSec, endSec: f.endSec, rgb, frames: f.frames, width: f.width, height: f.height };
    return (this.request(slot, msg, [rgb]) as Promise<SecondResult>).then((result) => {
      if (this.byStream.get(streamId) === slot) this.load.record(streamId, result.timings.computeMs);
      return result;
    });
  }

  async setPrompt(streamId: string, prompt: string): Promise<void> {
    await this.request(this.slotOf(streamId), { type: 'setPrompt', seq: 0, streamId, prompt });
  }

  async close(streamId: string): Promise<void> {
    const slot = this.byStream.get(streamId);
    this.load.remove(streamId); // also an admitted stream that never opened
    if (!slot) return;
    this.byStream.delete(streamId);
    if (!slot.channel.dead) await this.request(slot, { type: 'close', seq: 0, streamId }).catch(() => undefined);
  }

  isOpen(streamId: string): boolean {
    return this.byStream.has(streamId);
  }

  /** Streams on each worker (open or admitted), in worker order. */
  get streamsPerWorker(): number[] {
    return this.load.streamsPerWorker();
  }

  /** Each worker's measured busy fraction and planned load, and what one more stream is expected to cost. */
  loadSnapshot(): LoadSnapshot {
    return this.load.snapshot();
  }

  /** Process ids of the workers that run as child processes (their CPU time is not this process's). */
  get workerProcessIds(): number[] {
    return this.slots.flatMap((s) => (s && !s.channel.dead && s.channel.pid !== undefined ? [s.channel.pid] : []));
  }

  /** Each running worker's own memory (thread-memory.ts), by slot; a worker that fails to answer is left out. */
  async threadMemory(): Promise<{ worker: number; memory: ThreadMemory }[]> {
    const answers = await Promise.all(
      this.slots.map(async (s, worker) => (s && !s.channel.dead ? { worker, memory: await s.channel.memory().catch(() => undefined) } : undefined)),
    );
    return answers.filter((a): a is { worker: number; memory: ThreadMemory } => a?.memory !== undefined);
  }

  async destroy(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s && !s.channel.dead && s.channel.terminate()));
  }

  private slotOf(streamId: string): Slot {
    const slot = this.byStream.get(streamId);
    if (!slot) throw new SightlineError('worker_failed', `stream ${streamId} is not open on any engine worker`);
    return slot;
  }

  private async request(slot: Slot, msg: ToWorker & { seq: number }, transfer: ArrayBuffer[] = []): Promise<unknown> {
    const answer = await slot.channel.request(msg, transfer);
    return answer.type === 'result' ? answer.result : undefined;
  }

  /** The worker in slot `i`, started if absent or dead. */
  private slot(i: number): Slot {
    const existing = this.slots[i];
    if (existing && !existing.channel.dead) return existing;
    if (this.closed) throw new SightlineError('worker_failed', 'engine pool is closed');
    const channel = new WorkerChannel<Ready, Answer>(this.workerUrl, this.init, {
      name: 'engine worker',
      maxQueued: this.maxQueued,
      isolation: this.isolation,
      // Its streams' caches died with it: forget them, so they are reopened (e.g. from their transcript).
      onExit: (error) => {
        const lost = [...this.byStream].filter(([, s]) => s === slot).map(([id]) => id);
        for (const s of lost) this.byStream.delete(s);
        this.load.removeWorker(i);
        if (!this.closed) this.emit('workerExit', { streams: lost, error });
      },
    });
    const slot: Slot = { channel };
    channel.ready.then((m) => (slot.info = { provider: m.provider, kv: m.kv, notice: m.notice }), () => undefined);
    this.slots[i] = slot;
    return slot;
  }
}
