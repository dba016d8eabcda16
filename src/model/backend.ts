import type { KvGeometry, KvOps, KvStore } from '../cache/index.js';

/**
 * What the per-second loop needs from a model, whatever runs it (onnxruntime in a worker, or a
 * pure-TS fake in tests). Embeddings are plain row-major Float32Arrays [rows, hiddenSize].
 */
export interface InferenceBackend {
  readonly hiddenSize: number;
  readonly vocabSize: number;
  /** Rows of the embedding table for `ids`. */
  embedIds(ids: number[]): Float32Array;
  /** pixel_values [frames, 3, H, W] -> visual embeddings [frames * tokensPerFrame, hiddenSize]. */
  encodeFrames(pixelValues: Float32Array, frames: number): Promise<Float32Array>;
  /**
   * One decoder step over `tokens` new rows at positions store.length.., attending to the store's rows;
   * appends their K/V to the store and returns the logits of the last new row.
   */
  decode(embeds: Float32Array, tokens: number, store: KvStore): Promise<Float32Array>;
  /**
   * Cache-ops backend for a new stream's store, when the K/V live with the model (GPU memory);
   * absent: host buffers (HostKvOps).
   */
  createKvOps?: (geometry: KvGeometry, capacityTokens: number) => KvOps;
  dispose(): Promise<void>;
}
