import type { KvGeometry, KvOps, KvStore } from '../cache/index.js';
import { SightlineError } from '../errors.js';

/** One stream's decoder step: `tokens` rows of `embeds` at positions store.length.., appended to `store`. */
export interface DecodeRequest {
  embeds: Float32Array;
  tokens: number;
  store: KvStore;
  /** Which rows hold a picture (decode's `visual`): models whose positions are not row numbers need it. */
  visual?: readonly VisualRows[];
}

/**
 * Rows of a decoder step that hold a second's visual block as encodeFrames returned it (its features and the
 * tokens around them): `rows` rows from row `at` of the step, the block's rows [offset, offset + rows) of
 * `blockRows`. A model whose positions are not row numbers (Qwen2-VL's multimodal RoPE) places them by it.
 */
export interface VisualRows {
  at: number;
  rows: number;
  offset: number;
  blockRows: number;
}

/**
 * What the per-second loop needs from a model, whatever runs it (onnxruntime in a worker, or a
 * pure-TS fake in tests). Embeddings are plain row-major Float32Arrays [rows, hiddenSize].
 */
export interface InferenceBackend {
  readonly hiddenSize: number;
  readonly vocabSize: number;
  /** Rows of the embedding table for `ids` (a graph run for models whose table is a graph: await it). */
  embedIds(ids: number[]): Float32Array | Promise<Float32Array>;
  /**
   * pixel_values [frames, 3, H, W] -> visual embeddings [frames * tokensPerFrame, hiddenSize]. `owner` (the
   * stream's KV store) is who the model time is counted for when calls are shared (`takeComputeMs`).
   */
  encodeFrames(pixelValues: Float32Array, frames: number, owner?: object): Promise<Float32Array>;
  /**
   * True when encodeFrames of n frames gives each frame's rows one after another and nothing else, so several
   * streams' frames can share one call and be cut apart by frame (our models). Absent: a call per stream's
   * frames (a Qwen2-VL second is one block for all its frames; SmolVLM puts tokens between frames).
   */
  readonly framesEncodeAlone?: boolean;
  /**
   * One decoder step over `tokens` new rows at the positions after the store's rows (row numbers for 1D RoPE;
   * `visual` says which rows are a picture's), attending to the store's rows; appends their K/V to the store
   * and returns the logits of the last new row.
   */
  decode(embeds: Float32Array, tokens: number, store: KvStore, visual?: readonly VisualRows[]): Promise<Float32Array>;
  /**
   * Several streams' steps in one call (format-2 and Hugging Face decoders): the same result for each request as
   * `decode` alone, logits of each request's last new row in request order. One batch at a time. Absent:
   * the model runs one stream a call.
   */
  decodeBatch?(requests: readonly DecodeRequest[]): Promise<Float32Array[]>;
  /** Model time counted for `owner` since the last take, when calls are shared by streams (batching). */
  takeComputeMs?(owner: object): number;
  /**
   * Cache-ops backend for a new stream's store, when the K/V live with the model (GPU memory);
   * absent: host buffers (HostKvOps).
   */
  createKvOps?: (geometry: KvGeometry, capacityTokens: number) => KvOps;
  dispose(): Promise<void>;
}

/** A step that does not fit its store is refused with cache_full (the store is never grown). */
export function assertFits(tokens: number, store: KvStore): void {
  if (!store.fits(tokens)) {
    throw new SightlineError('cache_full', `KV cache full: ${tokens} new tokens do not fit (${store.length}/${store.capacityTokens} used)`);
  }
}

/**
 * The visual rows of rows [from, from + rows) of a step, as that chunk's own (a step run in chunks: each chunk
 * says where its part of a picture sits in it and which rows of the picture's block those are).
 */
export function visualInChunk(visual: readonly VisualRows[] | undefined, from: number, rows: number): VisualRows[] | undefined {
  const out: VisualRows[] = [];
  for (const v of visual ?? []) {
    const start = Math.max(v.at, from);
    const end = Math.min(v.at + v.rows, from + rows);
    if (start < end) out.push({ at: start - from, rows: end - start, offset: v.offset + (start - v.at), blockRows: v.blockRows });
  }
  return out.length > 0 ? out : undefined;
}
