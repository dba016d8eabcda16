import type { KvGeometry, KvOps, KvRows, RowRotation } from './kv-store.js';
import { rotateRowsWith } from './rope.js';

/**
 * K/V rows in the layout Hugging Face decoders take and give (`past_key_values.N.key` [1, kvHeads, rows,
 * headDim]): per layer one buffer holding exactly the live rows. Such a decoder returns past and new rows
 * together as its `present`, so `append` adopts that buffer instead of copying; removing rows (whole rounds,
 * at most once a second) builds new buffers, rotating the keys that move.
 */
export class HeadMajorKvOps implements KvOps {
  readonly name = 'host-head-major';
  keys: Float32Array[] = [];
  values: Float32Array[] = [];
  private rows = 0;

  constructor(private readonly geometry: KvGeometry) {
    for (let l = 0; l < geometry.numLayers; l++) {
      this.keys.push(new Float32Array(0));
      this.values.push(new Float32Array(0));
    }
  }

  /** `keys[l]`/`values[l]` are the decoder's whole present [kvHeads, at + tokens, headDim], not the new rows alone. */
  append(keys: readonly KvRows[], values: readonly KvRows[], at: number, tokens: number): void {
    const floats = this.geometry.numKvHeads * (at + tokens) * this.geometry.headDim;
    for (let l = 0; l < this.geometry.numLayers; l++) {
      const k = keys[l];
      const v = values[l];
      if (!(k instanceof Float32Array) || !(v instanceof Float32Array) || k.length !== floats || v.length !== floats) {
        throw new TypeError(`head-major KV store takes the decoder's present [kvHeads, ${at + tokens}, headDim] per layer`);
      }
      this.keys[l] = k;
      this.values[l] = v;
    }
    this.rows = at + tokens;
  }

  remove(start: number, end: number, length: number, rot: RowRotation): void {
    for (let l = 0; l < this.geometry.numLayers; l++) {
      this.keys[l] = this.cut(this.keys[l], length, start, end, rot);
      this.values[l] = this.cut(this.values[l], length, start, end);
    }
    this.rows = length - (end - start);
  }

  truncate(length: number): void {
    for (let l = 0; l < this.geometry.numLayers; l++) {
      this.keys[l] = this.cut(this.keys[l], this.rows, length, this.rows);
      this.values[l] = this.cut(this.values[l], this.rows, length, this.rows);
    }
    this.rows = length;
  }

  async flush(): Promise<void> {}

  /** Seq-major copies [length, kvHeads, headDim], as every KvOps reads back. */
  async read(length: number): Promise<{ keys: Float32Array[]; values: Float32Array[] }> {
    const { numKvHeads: heads, headDim: hd } = this.geometry;
    return { keys: this.keys.map((k) => headToSeqMajor(k, heads, length, hd)), values: this.values.map((v) => headToSeqMajor(v, heads, length, hd)) };
  }

  dispose(): void {
    this.keys.fill(new Float32Array(0));
    this.values.fill(new Float32Array(0));
    this.rows = 0;
  }

  /** Rows [start, end) of every head left out; with `rot`, the rows after them rotated as they move down. */
  private cut(buf: Float32Array, length: number, start: number, end: number, rot?: RowRotation): Float32Array {
    const { numKvHeads: heads, headDim: hd } = this.geometry;
    const keep = length - (end - start);
    const out = new Float32Array(heads * keep * hd);
    for (let h = 0; h < heads; h++) {
      const src = h * length * hd;
      const head = out.subarray(h * keep * hd, (h + 1) * keep * hd);
      head.set(buf.subarray(src, src + start * hd), 0);
      head.set(buf.subarray(src + end * hd, src + length * hd), start * hd);
      if (rot) rotateRowsWith(head, start, keep, 1, rot.cos, rot.sin);
    }
    return out;
  }
}

/** [heads, rows, headDim] -> [rows, heads, headDim] (the first `rows` rows of each head when a head holds more). */
export function headToSeqMajor(buf: Float32Array, heads: number, rows: number, headDim: number): Float32Array {
  const held = buf.length / (heads * headDim);
  const out = new Float32Array(rows * heads * headDim);
  for (let h = 0; h < heads; h++) {
    for (let r = 0; r < rows; r++) out.set(buf.subarray((h * held + r) * headDim, (h * held + r + 1) * headDim), (r * heads + h) * headDim);
  }
  return out;
}
