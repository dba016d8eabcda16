/**
 * Continuous batching inside one engine worker. Every stream's second runs as its own async task that awaits
 * its model calls one at a time; this backend collects the calls that are due from all streams and runs them
 * as few calls as it can, the way LLM servers batch decoding: each stream's frames in one vision call, then
 * decoder steps grouped by their number of new rows (a stream's next token with every other stream's next
 * token; a second's prefill with other prefills) so padding stays under 2x. A stream's results do not depend
 * on its batch (the packed rows are masked; docs/model-format.md, format 2).
 *
 * When a batch's calls finish, the streams they resume run their sampling and queue their next call within
 * the same turn of the event loop, so the next flush, one `setImmediate` later, finds them all.
 */
import type { KvGeometry, KvOps, KvStore } from '../cache/index.js';
import { assertFits, visualInChunk, type DecodeRequest, type InferenceBackend, type VisualRows } from './backend.js';
import { ScratchArray } from './scratch.js';

export interface BatchLimits {
  /** Streams in one decoder call (default 64). */
  maxBatch: number;
  /** Batch rows times new rows per call (default 4096): bounds a call's activations. */
  maxRows: number;
  /** Frames in one vision call (default 64). */
  maxFrames: number;
  /**
   * New rows of one stream in one call (default 512). A longer step (a `refresh` re-encode, a restart's
   * catch-up) runs as consecutive chunks, one per flush, so the other streams' next tokens are not stuck
   * behind it (chunked prefill); each chunk attends to the ones before, as one call would.
   */
  maxChunkRows: number;
  /**
   * Group steps by their number of new rows so padding stays under 2x (default true: on the CPU a call costs by
   * its rows). False: every due step of every stream in one call (on a GPU a call costs about the same for 1 row
   * or 500, and each extra call in a flush delays every stream's next token by a whole call).
   */
  groupByRows: boolean;
}

export const DEFAULT_BATCH_LIMITS: BatchLimits = { maxBatch: 64, maxRows: 4096, maxFrames: 64, maxChunkRows: 512, groupByRows: true };

interface Pending<T> {
  resolve(value: T): void;
  reject(err: unknown): void;
}
/** A stream's step; `done` rows of it already ran (earlier chunks). */
type DecodeJob = DecodeRequest & Pending<Float32Array> & { done: number };
interface VisionJob extends Pending<Float32Array> {
  pixelValues: Float32Array;
  frames: number;
  owner?: object;
}

export interface BatchStats {
  calls: number;
  requests: number;
}

export class BatchScheduler implements InferenceBackend {
  readonly hiddenSize: number;
  readonly vocabSize: number;
  readonly createKvOps?: (geometry: KvGeometry, capacityTokens: number) => KvOps;
  /** Decoder calls made and requests they carried (requests / calls = the mean batch). */
  readonly stats: BatchStats = { calls: 0, requests: 0 };
  private readonly limits: BatchLimits;
  private decodes: DecodeJob[] = [];
  private visions: VisionJob[] = [];
  /** The frames of a vision call of several streams, gathered here (one call runs at a time). */
  private readonly pixelScratch = new ScratchArray((n) => new Float32Array(n));
  private flushing = false;
  private scheduled = false;
  /** Model time attributed to each stream (by its share of the rows of the calls it was in), until taken. */
  private readonly computeMs = new WeakMap<object, number>(); // weak: a closed stream's store must not stay alive here

  /** `inner` must batch (`decodeBatch`: a format-2 or Hugging Face model). */
  constructor(
    private readonly inner: InferenceBackend,
    limits: Partial<BatchLimits> = {},
  ) {
    if (!inner.decodeBatch) throw new TypeError('BatchScheduler needs a backend with decodeBatch (a format-2 or Hugging Face model)');
    this.hiddenSize = inner.hiddenSize;
    this.vocabSize = inner.vocabSize;
    this.createKvOps = inner.createKvOps;
    this.limits = { ...DEFAULT_BATCH_LIMITS, ...limits };
  }

  embedIds(ids: number[]): Float32Array | Promise<Float32Array> {
    return this.inner.embedIds(ids);
  }

  encodeFrames(pixelValues: Float32Array, frames: number, owner?: object): Promise<Float32Array> {
    return new Promise((resolve, reject) => {
      this.visions.push({ pixelValues, frames, owner, resolve, reject });
      this.schedule();
    });
  }

  decode(embeds: Float32Array, tokens: number, store: KvStore, visual?: readonly VisualRows[]): Promise<Float32Array> {
    return new Promise((resolve, reject) => {
      try {
        assertFits(tokens, store); // refused alone, before it could fail a whole batch
      } catch (err) {
        reject(err);
        return;
      }
      this.decodes.push({ embeds, tokens, store, ...(visual ? { visual } : {}), resolve, reject, done: 0 });
      this.schedule();
    });
  }

  takeComputeMs(owner: object): number {
    const ms = this.computeMs.get(owner) ?? 0;
    this.computeMs.delete(owner);
    return ms;
  }

  dispose(): Promise<void> {
    return this.inner.dispose();
  }

  private schedule(): void {
    if (this.scheduled || this.flushing) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    const visions = this.visions.splice(0);
    const decodes = this.decodes.splice(0);
    const shareVision = this.inner.framesEncodeAlone === true;
    for (const group of chunk(visions, (g) => shareVision && g.reduce((n, j) => n + j.frames, 0) <= this.limits.maxFrames)) {
      await this.runVision(group);
    }
    for (const group of this.decodeGroups(decodes)) await this.runDecode(group);
    this.flushing = false;
    if (this.visions.length > 0 || this.decodes.length > 0) this.schedule();
  }

  /** Similar row counts together (one token with one token, prefills with prefills), within the limits. */
  private decodeGroups(jobs: DecodeJob[]): DecodeJob[][] {
    const byBucket = new Map<number, DecodeJob[]>();
    for (const j of jobs) {
      const rows = this.chunkRows(j);
      const bucket = !this.limits.groupByRows || rows <= 2 ? 0 : Math.ceil(Math.log2(rows));
      byBucket.set(bucket, [...(byBucket.get(bucket) ?? []), j]);
    }
    const { maxBatch, maxRows } = this.limits;
    return [...byBucket.entries()]
      .sort(([a], [b]) => a - b)
      .flatMap(([, group]) => chunk(group, (g) => g.length <= maxBatch && g.length * Math.max(...g.map((j) => this.chunkRows(j))) <= maxRows));
  }

  private chunkRows(j: DecodeJob): number {
    return Math.min(j.tokens - j.done, this.limits.maxChunkRows);
  }

  private async runDecode(group: DecodeJob[]): Promise<void> {
    const t0 = performance.now();
    const d = this.hiddenSize;
    const chunks = group.map((j): DecodeRequest => {
      const tokens = this.chunkRows(j);
      const visual = visualInChunk(j.visual, j.done, tokens);
      return { embeds: j.embeds.subarray(j.done * d), tokens, store: j.store, ...(visual ? { visual } : {}) };
    });
    try {
      const logits = await this.inner.decodeBatch!(chunks);
      this.attribute(chunks.map((c) => [c.store, c.tokens]), performance.now() - t0);
      this.stats.calls++;
      this.stats.requests += group.length;
      group.forEach((j, i) => {
        j.done += chunks[i].tokens;
        if (j.done < j.tokens) this.decodes.push(j); // the next chunk, in the next flush
        else j.resolve(logits[i]);
      });
    } catch (err) {
      for (const j of group) j.reject(err);
    }
  }

  private async runVision(group: VisionJob[]): Promise<void> {
    const t0 = performance.now();
    try {
      const frames = group.reduce((n, j) => n + j.frames, 0);
      const pixels = group.length === 1 ? group[0].pixelValues : concat(group.map((j) => j.pixelValues), this.pixelScratch);
      const out = await this.inner.encodeFrames(pixels, frames);
      this.attribute(group.map((j) => [j.owner, j.frames]), performance.now() - t0);
      const perFrame = out.length / frames;
      let at = 0;
      for (const j of group) {
        j.resolve(out.slice(at, at + j.frames * perFrame)); // a copy: a stream keeps its rounds' rows
        at += j.frames * perFrame;
      }
    } catch (err) {
      for (const j of group) j.reject(err);
    }
  }

  private attribute(shares: [object | undefined, number][], ms: number): void {
    const total = shares.reduce((n, [, rows]) => n + rows, 0);
    for (const [owner, rows] of shares) {
      if (owner) this.computeMs.set(owner, (this.computeMs.get(owner) ?? 0) + (ms * rows) / total);
    }
  }
}

/** Consecutive runs of `items`, each as long as `fits` allows (at least one item). */
function chunk<T>(items: T[], fits: (group: T[]) => boolean): T[][] {
  const out: T[][] = [];
  for (const item of items) {
    const last = out.at(-1);
    if (last && fits([...last, item])) last.push(item);
    else out.push([item]);
  }
  return out;
}

function concat(parts: Float32Array[], scratch: ScratchArray<Float32Array>): Float32Array {
  const out = scratch.take(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
