/**
 * The one owner of the encoder worker: a retrieval encoder off the main thread (worker-channel.ts does
 * the thread). Requests are answered once; a worker that dies rejects everything in flight with
 * `worker_failed`. Queued requests are bounded (`maxQueued`, default 64); the indexer awaits each batch,
 * so decode runs at most one batch ahead.
 */
import { SightlineError } from '../errors.js';
import { loadEncoderFolder, type EncoderSpec, type SiglipScoring } from './encoder-folder.js';
import type { EncoderWorkerInit, FromEncoder, ToEncoder } from './encoder-protocol.js';
import type { ClipFrames, EncoderRuntime } from './encoder.js';
import type { ThreadMemory } from './thread-memory.js';
import { WorkerChannel } from './worker-channel.js';

/** encoder.worker.js next to the built client, encoder.worker.ts next to the source under vitest/tsx. */
const WORKER_URL = new URL(`./encoder.worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

export interface EncoderOptions {
  /** onnxruntime threads in the worker (default 1; the indexer's decode uses the other core). */
  intraOpThreads?: number;
  /** Requests waiting in the worker before new ones are refused (default 64). */
  maxQueued?: number;
  /** CLIP/SigLIP folders: which graph files (fp16, quantized, ...; default the plain ones). */
  variant?: string;
}

/**
 * What the indexer and the search service need from an encoder (tests may pass a double): the
 * EncoderRuntime contract, held from another thread, closed instead of released.
 */
export interface ClipEncoder extends Pick<EncoderRuntime, 'spec' | 'embedDim' | 'scoring' | 'embedClips' | 'embedText'> {
  close(): Promise<void>;
  /** The encoder thread's own memory (thread-memory.ts), where it runs in a thread of its own. */
  memory?(): Promise<ThreadMemory>;
}

type Channel = WorkerChannel<Extract<FromEncoder, { type: 'ready' }>, Extract<FromEncoder, { type: 'vectors' }>>;

export class EncoderClient implements ClipEncoder {
  private constructor(
    readonly spec: EncoderSpec,
    readonly embedDim: number,
    private readonly channel: Channel,
    readonly scoring?: SiglipScoring,
  ) {}

  /** Validates the folder here (clear errors before a thread starts), then waits for the worker to load it. */
  static async create(modelDir: string, options: EncoderOptions = {}): Promise<EncoderClient> {
    const spec = loadEncoderFolder(modelDir, { variant: options.variant });
    const init: EncoderWorkerInit = { spec, intraOpThreads: options.intraOpThreads ?? 1 };
    const channel: Channel = new WorkerChannel(WORKER_URL, init, { name: 'encoder worker', maxQueued: options.maxQueued ?? 64 });
    try {
      const { embedDim, scoring } = await channel.ready;
      return new EncoderClient(spec, embedDim, channel, scoring);
    } catch (err) {
      await channel.terminate();
      throw err;
    }
  }

  embedClips(clips: ClipFrames[]): Promise<Float32Array[]> {
    if (clips.length === 0) return Promise.resolve([]);
    // Copies we own, so transferring them never detaches the caller's frames.
    const payload = clips.map((c) => ({ rgb: c.rgb.slice().buffer as ArrayBuffer, frames: c.frames }));
    return this.request({ type: 'clips', seq: 0, clips: payload }, payload.map((c) => c.rgb));
  }

  async embedText(text: string): Promise<Float32Array> {
    return (await this.request({ type: 'text', seq: 0, text }))[0];
  }

  memory(): Promise<ThreadMemory> {
    return this.channel.memory();
  }

  async close(): Promise<void> {
    await this.channel.terminate(new SightlineError('worker_failed', 'encoder is closed'));
  }

  private async request(msg: ToEncoder, transfer: ArrayBuffer[] = []): Promise<Float32Array[]> {
    const answer = await this.channel.request(msg, transfer);
    return answer.vectors.map((b) => new Float32Array(b));
  }
}
