import { SightlineError } from '../errors.js';
import { rotateKeyRows } from './rope.js';

/** Per-layer K/V geometry of one decoder. */
export interface KvGeometry {
  numLayers: number;
  numKvHeads: number;
  headDim: number;
}

/**
 * One stream's K/V rows, preallocated at a fixed capacity and never grown:
 *
 *   keys[l]   = Float32Array [capacityTokens, numKvHeads, headDim]   (seq-major, model-format.md)
 *   values[l] = same
 *   rows 0..length-1 are live; row i holds the token at position i (contiguous RoPE).
 *
 * It answers "does it fit" and moves rows; it knows nothing about rounds or policies.
 */
export class KvStore {
  readonly keys: Float32Array[];
  readonly values: Float32Array[];
  private lengthTokens = 0;
  private readonly rowFloats: number;

  constructor(
    readonly geometry: KvGeometry,
    readonly capacityTokens: number,
    private readonly invFreq: Float64Array,
  ) {
    this.rowFloats = geometry.numKvHeads * geometry.headDim;
    this.keys = [];
    this.values = [];
    for (let l = 0; l < geometry.numLayers; l++) {
      this.keys.push(new Float32Array(capacityTokens * this.rowFloats));
      this.values.push(new Float32Array(capacityTokens * this.rowFloats));
    }
  }

  get length(): number {
    return this.lengthTokens;
  }

  get freeTokens(): number {
    return this.capacityTokens - this.lengthTokens;
  }

  /** Bytes held by this stream's buffers (allocated, not just used: that is what memory costs). */
  get bytes(): number {
    return 2 * this.geometry.numLayers * this.capacityTokens * this.rowFloats * 4;
  }

  fits(tokens: number): boolean {
    return tokens <= this.freeTokens;
  }

  /** Zero-copy views of the live prefix, shaped for `past_key_<l>` [1, length, kvHeads, headDim]. */
  keyView(layer: number): Float32Array {
    return this.keys[layer].subarray(0, this.lengthTokens * this.rowFloats);
  }

  valueView(layer: number): Float32Array {
    return this.values[layer].subarray(0, this.lengthTokens * this.rowFloats);
  }

  /** Append `tokens` rows per layer (`new_key_<l>` outputs). Throws cache_full rather than growing. */
  append(newKeys: Float32Array[], newValues: Float32Array[], tokens: number): void {
    if (!this.fits(tokens)) {
      throw new SightlineError(
        'cache_full',
        `KV cache full: ${tokens} new tokens do not fit (${this.lengthTokens}/${this.capacityTokens} used)`,
      );
    }
    const at = this.lengthTokens * this.rowFloats;
    const n = tokens * this.rowFloats;
    for (let l = 0; l < this.geometry.numLayers; l++) {
      this.keys[l].set(newKeys[l].subarray(0, n), at);
      this.values[l].set(newValues[l].subarray(0, n), at);
    }
    this.lengthTokens += tokens;
  }

  /**
   * Remove rows [start, end) and close the gap: later rows move down by `end - start` and their keys
   * rotate by the same number of positions, so positions stay contiguous. Cost: O(rows after `end`).
   */
  remove(start: number, end: number): void {
    if (start < 0 || end > this.lengthTokens || start > end) {
      throw new RangeError(`remove [${start}, ${end}) outside 0..${this.lengthTokens}`);
    }
    const gap = end - start;
    if (gap === 0) return;
    const tail = this.lengthTokens - end;
    for (let l = 0; l < this.geometry.numLayers; l++) {
      this.keys[l].copyWithin(start * this.rowFloats, end * this.rowFloats, this.lengthTokens * this.rowFloats);
      this.values[l].copyWithin(start * this.rowFloats, end * this.rowFloats, this.lengthTokens * this.rowFloats);
      rotateKeyRows(this.keys[l], start, start + tail, this.geometry.numKvHeads, this.invFreq, -gap);
    }
    this.lengthTokens -= gap;
  }

  /** Forget rows from `length` on (a rollback or a rebuild); the memory stays allocated. */
  truncate(length: number): void {
    if (length < 0 || length > this.lengthTokens) throw new RangeError(`truncate to ${length} of ${this.lengthTokens}`);
    this.lengthTokens = length;
  }
}
