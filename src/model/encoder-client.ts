/**
 * The one owner of the encoder worker: a retrieval encoder off the main thread. Requests are answered
 * once; a worker that dies rejects everything in flight with `worker_failed`. Queued clip requests are
 * bounded (`maxQueued`, default 64); the indexer awaits each batch, so decode runs at most one batch ahead.
 */
import type { Worker } from 'node:worker_threads';
import { SightlineError, type ErrorCode } from '../errors.js';
import { startWorker } from './worker-start.js';
import { loadEncoderFolder, type EncoderSpec } from './encoder-folder.js';
import type { EncoderWorkerInit, FromEncoder, ToEncoder } from './encoder-protocol.js';
import type { ClipFrames, EncoderRuntime } from './encoder.js';

/** encoder.worker.js next to the built client, encoder.worker.ts next to the source under vitest/tsx. */
const WORKER_URL = new URL(`./encoder.worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

export interface EncoderOptions {
  /** onnxruntime threads in the worker (default 1; the indexer's decode uses the other core). */
  intraOpThreads?: number;
  /** Requests waiting in the worker before new ones are refused (default 64). */
  maxQueued?: number;
}

/**
 * What the indexer and the search service need from an encoder (tests may pass a double): the
 * EncoderRuntime contract, held from another thread, closed instead of released.
 */
export interface ClipEncoder extends Pick<EncoderRuntime, 'spec' | 'embedDim' | 'embedClips' | 'embedText'> {
  close(): Promise<void>;
}

interface Pending {
  resolve: (v: Float32Array[]) => void;
  reject: (e: Error) => void;
}

export class EncoderClient implements ClipEncoder {
  private readonly pending = new Map<number, Pending>();
  private seq = 0;
  private dead: Error | undefined;

  private constructor(
    readonly spec: EncoderSpec,
    readonly embedDim: number,
    private readonly worker: Worker,
    private readonly maxQueued: number,
  ) {}

  /** Validates the folder here (clear errors before a thread starts), then waits for the worker to load it. */
  static async create(modelDir: string, options: EncoderOptions = {}): Promise<EncoderClient> {
    const spec = loadEncoderFolder(modelDir);
    const init: EncoderWorkerInit = { spec, intraOpThreads: options.intraOpThreads ?? 1 };
    const worker = startWorker(WORKER_URL, init);
    let lastError: Error | undefined;
    worker.on('error', (err) => (lastError = err));
    const embedDim = await new Promise<number>((resolve, reject) => {
      const onMessage = (m: FromEncoder): void => {
        if (m.type === 'ready') resolve(m.embedDim);
        if (m.type === 'fatal') reject(new SightlineError(m.code as ErrorCode, m.message));
      };
      worker.on('message', onMessage);
      worker.once('exit', (code) => reject(lastError ?? new SightlineError('worker_failed', `encoder worker exited with code ${code} while loading ${spec.dir}`)));
    }).catch(async (err) => {
      await worker.terminate();
      throw err;
    });
    const client = new EncoderClient(spec, embedDim, worker, options.maxQueued ?? 64);
    worker.on('message', (m: FromEncoder) => client.onMessage(m));
    worker.on('exit', (code) => client.fail(lastError, code));
    return client;
  }

  embedClips(clips: ClipFrames[]): Promise<Float32Array[]> {
    if (clips.length === 0) return Promise.resolve([]);
    // Copies we own, so transferring them never detaches the caller's frames.
    const payload = clips.map((c) => ({ rgb: c.rgb.slice().buffer as ArrayBuffer, frames: c.frames }));
    return this.request({ type: 'clips', seq: 0, clips: payload }, payload.map((c) => c.rgb));
  }

  async embedText(text: string): Promise<Float32Array> {
    return (await this.request({ type: 'text', seq: 0, text }, []))[0];
  }

  async close(): Promise<void> {
    this.dead ??= new SightlineError('worker_failed', 'encoder is closed');
    await this.worker.terminate();
  }

  private request(msg: ToEncoder, transfer: ArrayBuffer[]): Promise<Float32Array[]> {
    if (this.dead) return Promise.reject(this.dead);
    if (this.pending.size >= this.maxQueued) return Promise.reject(new SightlineError('rate_limited', `encoder queue full (${this.maxQueued} requests)`));
    msg.seq = ++this.seq;
    return new Promise((resolve, reject) => {
      this.pending.set(msg.seq, { resolve, reject });
      this.worker.postMessage(msg, transfer);
    });
  }

  private onMessage(m: FromEncoder): void {
    if (m.type !== 'vectors' && m.type !== 'error') return;
    const p = this.pending.get(m.seq);
    if (!p) return;
    this.pending.delete(m.seq);
    if (m.type === 'error') p.reject(new SightlineError(m.code as ErrorCode, m.message));
    else p.resolve(m.vectors.map((b) => new Float32Array(b)));
  }

  private fail(cause: Error | undefined, code: number): void {
    const failure = this.dead ?? new SightlineError('worker_failed', `encoder worker failed: ${cause?.message ?? `exit code ${code}`}`, { cause });
    this.dead = failure;
    for (const p of this.pending.values()) p.reject(failure);
    this.pending.clear();
  }
}
