/**
 * Several streams' steps in one call of a Hugging Face decoder, K/V on the host (head-major, the decoder's own
 * layout). The inputs are packed as for our format-2 decoders (batch-packer.ts: embeddings padded to the most
 * new rows, per-row positions, a mask over past + new rows). The past of row b is its stream's rows, then
 * masked padding up to the longest past, in every head: `past_key_values.N.*` [batch, kvHeads, pastRows, headDim].
 * The decoder gives `present.N.*` [batch, kvHeads, pastRows + newRows, headDim]; each stream keeps its own
 * rows of it (its past, then its new rows: the padding in between and after is left out), which its store
 * adopts as it adopts a lone call's present. Positions are explicit and the mask hides the padding, so each row
 * computes what it computes alone (tested against lone calls in test/model/batching.test.ts).
 */
import type { HeadMajorKvOps } from '../cache/index.js';
import { ScratchArray } from './scratch.js';

export interface HeadMajorShape {
  numLayers: number;
  numKvHeads: number;
  headDim: number;
}

/** The stores' K/V of one layer as one padded past; the arrays are reused, valid until the next pack. */
export class HeadMajorPastPacker {
  private readonly keys: ScratchArray<Float32Array>[];
  private readonly values: ScratchArray<Float32Array>[];

  constructor(private readonly shape: HeadMajorShape) {
    const floats = (): ScratchArray<Float32Array> => new ScratchArray((n) => new Float32Array(n));
    this.keys = Array.from({ length: shape.numLayers }, floats);
    this.values = Array.from({ length: shape.numLayers }, floats);
  }

  /**
   * Per layer, [batch, kvHeads, pastRows, headDim] with each stream's rows first in each head; the padding after
   * them keeps whatever an earlier call left (finite values the mask hides, as batch-packer.ts's padding).
   * The buffers are sized and made resident for the batch's full caches (`capacityRows` each) when a batch of
   * this size first comes, not stepped up as pasts grow (the RSS then rose for as long as caches filled, as
   * BatchPacker's did in the soak: bench/results/soak-quick.md).
   */
  pack(ops: readonly HeadMajorKvOps[], lengths: readonly number[], pastRows: number, capacityRows = pastRows): { keys: Float32Array[]; values: Float32Array[] } {
    const { numLayers, numKvHeads: heads, headDim: hd } = this.shape;
    const floats = ops.length * heads * pastRows * hd;
    const full = ops.length * heads * Math.max(pastRows, capacityRows) * hd;
    const past = (scratch: ScratchArray<Float32Array>): Float32Array => {
      const into = scratch.take(floats, full);
      scratch.touch(full);
      return into;
    };
    const keys: Float32Array[] = [];
    const values: Float32Array[] = [];
    for (let l = 0; l < numLayers; l++) {
      keys.push(gather(past(this.keys[l]), ops.map((o) => o.keys[l]), lengths, heads, pastRows, hd));
      values.push(gather(past(this.values[l]), ops.map((o) => o.values[l]), lengths, heads, pastRows, hd));
    }
    return { keys, values };
  }
}

function gather(into: Float32Array, stores: readonly Float32Array[], lengths: readonly number[], heads: number, pastRows: number, hd: number): Float32Array {
  stores.forEach((buf, b) => {
    const rows = lengths[b];
    for (let h = 0; h < heads; h++) into.set(buf.subarray(h * rows * hd, (h + 1) * rows * hd), ((b * heads + h) * pastRows) * hd);
  });
  return into;
}

/**
 * Row b's own present out of the batch's [batch, kvHeads, pastRows + newRows, headDim]: per head its `past`
 * rows, then its `tokens` new rows (which sit at pastRows..), as one [kvHeads, past + tokens, headDim] array.
 */
export function ownPresent(present: Float32Array, b: number, past: number, tokens: number, pastRows: number, newRows: number, heads: number, hd: number): Float32Array {
  const width = pastRows + newRows;
  const rows = past + tokens;
  const out = new Float32Array(heads * rows * hd);
  for (let h = 0; h < heads; h++) {
    const src = (b * heads + h) * width * hd;
    out.set(present.subarray(src, src + past * hd), h * rows * hd);
    out.set(present.subarray(src + pastRows * hd, src + (pastRows + tokens) * hd), (h * rows + past) * hd);
  }
  return out;
}
