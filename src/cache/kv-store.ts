import { SightlineError } from '../errors.js';
import { rotateRowsWith } from './rope.js';
import { RowPositions } from './row-positions.js';

/** Per-layer K/V geometry of one decoder. */
export interface KvGeometry {
  numLayers: number;
  numKvHeads: number;
  headDim: number;
}

/**
 * New K/V rows of one layer as the decoder gave them: a host Float32Array [tokens, kvHeads, headDim],
 * or an opaque tensor the ops backend understands (an onnxruntime tensor, possibly in GPU memory).
 */
export type KvRows = Float32Array | { readonly dims: readonly number[] };

/** A rotation of rows [start, start+rows) by `delta` positions: cos/sin per rotary pair, float64. */
export interface RowRotation {
  delta: number;
  cos: Float64Array;
  sin: Float64Array;
}

/**
 * The cache-ops backend: where the rows live and how they move. KvStore does the bookkeeping (length,
 * capacity, range checks, rotation angles) once for every backend; an implementation only moves data.
 * Calls arrive in order; a backend may defer the work (GPU graphs) until `flush()`, which runs before
 * the rows are next read by a decoder step.
 */
export interface KvOps {
  /** "host", or "onnx:<provider>" for graph-backed ops. */
  readonly name: string;
  /** Append `tokens` rows per layer at row `at` (== the live length). */
  append(keys: readonly KvRows[], values: readonly KvRows[], at: number, tokens: number): void;
  /** Drop rows [start, end) of `length` live rows; later rows move down and their keys rotate by `rot`. */
  remove(start: number, end: number, length: number, rot: RowRotation): void;
  /** Keep rows [0, length). */
  truncate(length: number): void;
  /** Run deferred work. */
  flush(): Promise<void>;
  /** Copy the live rows of every layer to host memory (tests, numerics checks; never on the hot path). */
  read(length: number): Promise<{ keys: Float32Array[]; values: Float32Array[] }>;
  /** Release every buffer (GPU tensors included); the ops are unusable afterwards. */
  dispose(): void;
}

/** Host implementation: preallocated Float32Array per layer [capacity, kvHeads, headDim]. */
export class HostKvOps implements KvOps {
  readonly name = 'host';
  readonly keys: Float32Array[] = [];
  readonly values: Float32Array[] = [];
  private readonly rowFloats: number;

  constructor(
    private readonly geometry: KvGeometry,
    capacityTokens: number,
  ) {
    this.rowFloats = geometry.numKvHeads * geometry.headDim;
    // Zeros written at once: a fresh array's pages count towards RSS only when first written, so a cache would
    // otherwise take its planned bytes row by row, whenever its longest context so far grew (soak, run 18).
    for (let l = 0; l < geometry.numLayers; l++) {
      this.keys.push(new Float32Array(capacityTokens * this.rowFloats).fill(0));
      this.values.push(new Float32Array(capacityTokens * this.rowFloats).fill(0));
    }
  }

  append(keys: readonly KvRows[], values: readonly KvRows[], at: number, tokens: number): void {
    const n = tokens * this.rowFloats;
    for (let l = 0; l < this.geometry.numLayers; l++) {
      const k = keys[l];
      const v = values[l];
      if (!(k instanceof Float32Array) || !(v instanceof Float32Array)) {
        throw new TypeError('host KV store takes Float32Array rows (a device tensor was given)');
      }
      this.keys[l].set(k.subarray(0, n), at * this.rowFloats);
      this.values[l].set(v.subarray(0, n), at * this.rowFloats);
    }
  }

  remove(start: number, end: number, length: number, rot: RowRotation): void {
    const r = this.rowFloats;
    for (let l = 0; l < this.geometry.numLayers; l++) {
      this.keys[l].copyWithin(start * r, end * r, length * r);
      this.values[l].copyWithin(start * r, end * r, length * r);
      rotateRowsWith(this.keys[l], start, start + length - end, this.geometry.numKvHeads, rot.cos, rot.sin);
    }
  }

  truncate(): void {}

  async flush(): Promise<void> {}

  async read(length: number): Promise<{ keys: Float32Array[]; values: Float32Array[] }> {
    const n = length * this.rowFloats;
    return { keys: this.keys.map((k) => k.slice(0, n)), values: this.values.map((v) => v.slice(0, n)) };
  }

  dispose(): void {}
}

/**
 * One stream's K/V rows at a fixed capacity, never grown:
 *
 *   rows 0..length-1 are live, per layer [rows, kvHeads, headDim] (seq-major, model-format.md);
 *   `positions` holds each row's RoPE position (row-positions.ts): row i at position i for text-only 1D
 *   models (contiguous RoPE); a multimodal-RoPE model gives its picture rows' positions when appending.
 *
 * It answers "does it fit" and moves rows through its KvOps (host buffers by default, or ONNX graphs
 * on the decoder's provider); it knows nothing about rounds or policies.
 */
export class KvStore {
  readonly ops: KvOps;
  readonly positions: RowPositions;
  private lengthTokens = 0;
  private readonly rowFloats: number;

  constructor(
    readonly geometry: KvGeometry,
    readonly capacityTokens: number,
    private readonly invFreq: Float64Array,
    ops?: KvOps,
  ) {
    this.rowFloats = geometry.numKvHeads * geometry.headDim;
    this.ops = ops ?? new HostKvOps(geometry, capacityTokens);
    this.positions = new RowPositions(capacityTokens);
  }

  get length(): number {
    return this.lengthTokens;
  }

  get freeTokens(): number {
    return this.capacityTokens - this.lengthTokens;
  }

  /** Bytes this stream may hold (capacity, not just live rows: that is what memory is planned for). */
  get bytes(): number {
    return 2 * this.geometry.numLayers * this.capacityTokens * this.rowFloats * 4;
  }

  fits(tokens: number): boolean {
    return tokens <= this.freeTokens;
  }

  private get host(): HostKvOps {
    if (!(this.ops instanceof HostKvOps)) throw new TypeError(`KV rows live in "${this.ops.name}", not host memory: use read()`);
    return this.ops;
  }

  /** Zero-copy views of the live prefix (host store only), shaped for `past_key_<l>` [1, length, kvHeads, headDim]. */
  keyView(layer: number): Float32Array {
    return this.host.keys[layer].subarray(0, this.lengthTokens * this.rowFloats);
  }

  valueView(layer: number): Float32Array {
    return this.host.values[layer].subarray(0, this.lengthTokens * this.rowFloats);
  }

  /**
   * Append `tokens` rows per layer (`new_key_<l>` outputs) at `positions` ([tokens, 3] row-major; absent: text
   * rows after the last position). Throws cache_full rather than growing.
   */
  append(newKeys: readonly KvRows[], newValues: readonly KvRows[], tokens: number, positions?: Int32Array): void {
    if (!this.fits(tokens)) {
      throw new SightlineError(
        'cache_full',
        `KV cache full: ${tokens} new tokens do not fit (${this.lengthTokens}/${this.capacityTokens} used)`,
      );
    }
    this.ops.append(newKeys, newValues, this.lengthTokens, tokens);
    this.positions.append(tokens, positions);
    this.lengthTokens += tokens;
  }

  /**
   * Remove rows [start, end) and close the gap: later rows move down by `end - start` rows and by the span's
   * extent in positions (`end - start` for text rows; more for a picture's rows, whose positions step
   * through its height and width), and their keys rotate back by that many positions on every axis, so
   * positions stay contiguous. Cost: O(rows after `end`).
   */
  remove(start: number, end: number): void {
    if (start < 0 || end > this.lengthTokens || start > end) {
      throw new RangeError(`remove [${start}, ${end}) outside 0..${this.lengthTokens}`);
    }
    const gap = end - start;
    if (gap === 0) return;
    // Equal moves on all three axes rotate every rotary pair by its own frequency, whatever axis (mrope
    // section) the pair follows: the 1D rotation, by the extent in positions rather than the row count.
    const shift = this.positions.remove(start, end);
    const half = this.invFreq.length;
    const rot: RowRotation = { delta: -shift, cos: new Float64Array(half), sin: new Float64Array(half) };
    for (let i = 0; i < half; i++) {
      rot.cos[i] = Math.cos(-shift * this.invFreq[i]);
      rot.sin[i] = Math.sin(-shift * this.invFreq[i]);
    }
    this.ops.remove(start, end, this.lengthTokens, rot);
    this.lengthTokens -= gap;
  }

  /** Forget rows from `length` on (a rollback or a rebuild); capacity stays reserved. */
  truncate(length: number): void {
    if (length < 0 || length > this.lengthTokens) throw new RangeError(`truncate to ${length} of ${this.lengthTokens}`);
    if (length === this.lengthTokens) return;
    this.ops.truncate(length);
    this.positions.truncate(length);
    this.lengthTokens = length;
  }

  /** Run the ops backend's deferred work (a no-op on the host). */
  flush(): Promise<void> {
    return this.ops.flush();
  }

  /** The live rows of every layer, copied to host memory. */
  async read(): Promise<{ keys: Float32Array[]; values: Float32Array[] }> {
    await this.ops.flush();
    return this.ops.read(this.lengthTokens);
  }

  dispose(): void {
    this.ops.dispose();
    this.positions.truncate(0);
    this.lengthTokens = 0;
  }
}
