/**
 * Messages across the encoder worker boundary (encoder-client.ts <-> encoder.worker.ts). Plain data;
 * frame bytes and vectors cross as transferred ArrayBuffers. Every request carries `seq` and is
 * answered exactly once (`vectors` or `error`); unknown message types are ignored on both sides.
 */
import type { EncoderSpec, SiglipScoring } from './encoder-folder.js';

export interface EncoderWorkerInit {
  spec: EncoderSpec;
  intraOpThreads: number;
}

export type ToEncoder =
  /** Clips, each `frames` packed RGB24 frames (buffers transferred). */
  | { type: 'clips'; seq: number; clips: { rgb: ArrayBuffer; frames: number }[] }
  /** Text queries are served before queued clips, so a query never waits behind an indexing backlog. */
  | { type: 'text'; seq: number; text: string };

export type FromEncoder =
  | { type: 'ready'; embedDim: number; scoring?: SiglipScoring }
  | { type: 'fatal'; code: string; message: string }
  | { type: 'vectors'; seq: number; vectors: ArrayBuffer[] }
  | { type: 'error'; seq: number; code: string; message: string };
