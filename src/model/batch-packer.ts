/**
 * Packs several streams' decoder steps into one batch of the format-2 step graph (docs/model-format.md) and
 * unpacks the answers: row b holds stream b's past (its host K/V rows, then padding up to the longest past)
 * and its new rows (then padding up to the most new rows); the attention mask marks the padding 0, so each
 * row computes what it would alone. A batch of one is passed as zero-copy views, exactly as before batching.
 */
import type { KvStore } from '../cache/index.js';
import type { DecodeRequest } from './backend.js';
import { ScratchArray } from './scratch.js';

export interface BatchShape {
  hiddenSize: number;
  vocabSize: number;
  numLayers: number;
  numKvHeads: number;
  headDim: number;
}

export interface BatchInputs {
  batch: number;
  /** Past rows per batch row (the longest past). */
  pastRows: number;
  /** New rows per batch row (the most new rows). */
  newRows: number;
  embeds: Float32Array;
  positions: BigInt64Array;
  /** [batch, pastRows + newRows]: 1 = a real row to attend to, 0 = padding. */
  mask: BigInt64Array;
}

export interface PackedBatch extends BatchInputs {
  pastKeys: Float32Array[];
  pastValues: Float32Array[];
}

export class BatchPacker {
  private readonly rowFloats: number;
  /** Per layer, reused between calls (a batch's past is megabytes): valid until the next pack(). */
  private readonly scratchKeys: ScratchArray<Float32Array>[];
  private readonly scratchValues: ScratchArray<Float32Array>[];
  /** The inputs of a batch, reused the same way: valid until the next packInputs() / pack(). */
  private readonly embedsScratch = new ScratchArray((n) => new Float32Array(n));
  private readonly positionsScratch = new ScratchArray((n) => new BigInt64Array(n));
  private readonly maskScratch = new ScratchArray((n) => new BigInt64Array(n));

  /** The most streams a batch will hold (the scheduler's limit): what the first batch's past is sized for. */
  private maxBatch = 0;
  /** Streams open on this worker: a batch of them all is what the past's resident pages are made ready for. */
  private streams = 0;

  constructor(private readonly shape: BatchShape) {
    this.rowFloats = shape.numKvHeads * shape.headDim;
    const floats = (): ScratchArray<Float32Array> => new ScratchArray((n) => new Float32Array(n));
    this.scratchKeys = Array.from({ length: shape.numLayers }, floats);
    this.scratchValues = Array.from({ length: shape.numLayers }, floats);
  }

  /**
   * Batches will hold up to `maxBatch` streams: the past buffers are sized for that many full caches when the
   * first batch comes (a pool sized at start, as LLM servers size their K/V pool), not stepped up each time a
   * larger batch first comes: in an hour's soak one came minutes after warm-up, and RSS rose with it.
   */
  expectBatches(maxBatch: number): void {
    this.maxBatch = maxBatch;
  }

  /** `streams` are open on this worker now: the next batch makes the past resident for as many as a batch holds. */
  expectStreams(streams: number): void {
    this.streams = streams;
  }

  /**
   * Embeddings, positions and mask of a batch; the past is the caller's (host rows: `pack`). For a batch of
   * several streams the arrays are this packer's, valid until its next call (such batches come one at a time,
   * through decodeBatch); a batch of one gets its own (a backend's single `decode` calls may overlap).
   */
  packInputs(requests: readonly DecodeRequest[]): BatchInputs {
    const d = this.shape.hiddenSize;
    const batch = requests.length;
    const newRows = Math.max(...requests.map((r) => r.tokens));
    const pastRows = Math.max(...requests.map((r) => r.store.length));
    const width = pastRows + newRows;
    const positions = batch === 1 ? new BigInt64Array(newRows) : this.positionsScratch.take(batch * newRows);
    const mask = batch === 1 ? new BigInt64Array(width) : this.maskScratch.take(batch * width).fill(0n);
    let embeds: Float32Array;
    if (batch === 1) {
      embeds = requests[0].embeds.subarray(0, newRows * d);
    } else {
      embeds = this.embedsScratch.take(batch * newRows * d).fill(0);
      requests.forEach((r, b) => embeds.set(r.embeds.subarray(0, r.tokens * d), b * newRows * d));
    }
    requests.forEach((r, b) => {
      const past = r.store.length;
      for (let i = 0; i < newRows; i++) positions[b * newRows + i] = BigInt(past + i);
      mask.fill(1n, b * width, b * width + past);
      mask.fill(1n, b * width + pastRows, b * width + pastRows + r.tokens);
    });
    return { batch, pastRows, newRows, embeds, positions, mask };
  }

  pack(requests: readonly DecodeRequest[]): PackedBatch {
    const inputs = this.packInputs(requests);
    const { batch, pastRows } = inputs;
    const { numLayers } = this.shape;
    if (batch === 1) {
      const store = requests[0].store;
      return {
        ...inputs,
        pastKeys: Array.from({ length: numLayers }, (_, l) => store.keyView(l)),
        pastValues: Array.from({ length: numLayers }, (_, l) => store.valueView(l)),
      };
    }
    const floats = batch * pastRows * this.rowFloats;
    // Sized for full caches (and the most streams a batch holds, when told) the first time a batch comes: the
    // past grows for minutes while caches fill, and growing with it stepped RSS up long after warm-up (soak).
    const fullRows = Math.max(...requests.map((r) => r.store.capacityTokens));
    const most = Math.max(batch, this.maxBatch) * fullRows * this.rowFloats;
    // And made resident for full caches of all the open streams a batch can hold: only the pages a call writes
    // count, so without this the RSS rose whenever a larger batch first met fuller caches, for half an hour after
    // they filled (soak run 16, bench/results/soak-quick.md).
    const resident = Math.min(Math.max(batch, this.streams), Math.max(batch, this.maxBatch)) * fullRows * this.rowFloats;
    const pastKeys: Float32Array[] = [];
    const pastValues: Float32Array[] = [];
    const past = (scratch: ScratchArray<Float32Array>): Float32Array => {
      const into = scratch.take(floats, most);
      scratch.touch(resident);
      return into;
    };
    for (let l = 0; l < numLayers; l++) {
      pastKeys.push(this.gather(past(this.scratchKeys[l]), requests, pastRows, (s) => s.keyView(l)));
      pastValues.push(this.gather(past(this.scratchValues[l]), requests, pastRows, (s) => s.valueView(l)));
    }
    return { ...inputs, pastKeys, pastValues };
  }

  /** Each row's logits of its last new row. */
  lastLogits(requests: readonly DecodeRequest[], newRows: number, logits: Float32Array): Float32Array[] {
    const v = this.shape.vocabSize;
    return requests.map((r, b) => {
      const last = b * newRows + r.tokens - 1;
      return logits.slice(last * v, (last + 1) * v);
    });
  }

  /** Appends each row's new K/V to its store and returns each row's logits of its last new row. */
  unpack(
    requests: readonly DecodeRequest[],
    packed: PackedBatch,
    newKeys: readonly Float32Array[],
    newValues: readonly Float32Array[],
    logits: Float32Array,
  ): Float32Array[] {
    const rowBlock = packed.newRows * this.rowFloats;
    requests.forEach((r, b) => {
      const rows = (all: readonly Float32Array[]) => all.map((a) => a.subarray(b * rowBlock, b * rowBlock + r.tokens * this.rowFloats));
      r.store.append(rows(newKeys), rows(newValues), r.tokens);
    });
    return this.lastLogits(requests, packed.newRows, logits);
  }

  /** Stream b's live rows at row block b; the padding rows after them keep older finite values, masked out. */
  private gather(into: Float32Array, requests: readonly DecodeRequest[], pastRows: number, view: (s: KvStore) => Float32Array): Float32Array {
    requests.forEach((r, b) => into.set(view(r.store), b * pastRows * this.rowFloats));
    return into;
  }
}
