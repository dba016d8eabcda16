/**
 * Messages across the engine worker boundary (pool.ts <-> engine.worker.ts). Plain data only; frame
 * bytes cross as transferred ArrayBuffers. Every request carries `seq`; the worker answers it exactly
 * once with `result`, `done` or `error`. Unknown message types are ignored on both sides.
 */
import type { ModelFolder } from './model-folder.js';
import type { SecondResult, StreamEngineOptions } from './stream-engine.js';

/** workerData of each engine worker. */
export interface WorkerInit {
  folder: ModelFolder;
  provider: string;
  intraOpThreads: number;
  /** Where streams' K/V live (default: device on webgpu, host on cpu). */
  kv?: 'host' | 'device';
  /** Batch the streams' model calls when the model allows it (default true). */
  batching?: boolean;
}

export type ToWorker =
  | { type: 'open'; seq: number; streamId: string; options: StreamEngineOptions; previousTexts: string[] }
  | {
      type: 'step';
      seq: number;
      streamId: string;
      startSec: number;
      endSec: number;
      /** Packed RGB24 of `frames` frames, width x height each (transferred). */
      rgb: ArrayBuffer;
      frames: number;
      width: number;
      height: number;
    }
  | { type: 'setPrompt'; seq: number; streamId: string; prompt: string }
  | { type: 'close'; seq: number; streamId: string };

export type FromWorker =
  /** Loaded; `provider` is what runs (cpu after a webgpu fallback, which `notice` explains). */
  | { type: 'ready'; provider: string; kv: string; notice?: string }
  /** The worker could not start (bad model, missing provider); it exits after this. */
  | { type: 'fatal'; code: string; message: string }
  | { type: 'result'; seq: number; result: SecondResult }
  | { type: 'done'; seq: number }
  | { type: 'error'; seq: number; code: string; message: string };
