/**
 * Re-indexing RoPE'd keys. Keys are cached after RoPE (docs/model-format.md, "rotate half" pairing:
 * dim i pairs with i + headDim/2). Moving a key from position p to p - d is one rotation of every pair
 * by -d * invFreq[i]; rotations compose, so this equals RoPE applied afresh at p - d. Angles in float64.
 */
export interface RopeParams {
  theta: number;
  headDim: number;
}

export function inverseFrequencies(rope: RopeParams): Float64Array {
  const half = rope.headDim / 2;
  const inv = new Float64Array(half);
  for (let i = 0; i < half; i++) inv[i] = 1 / Math.pow(rope.theta, (2 * i) / rope.headDim);
  return inv;
}

/**
 * Rotate rows [rowStart, rowEnd) of a seq-major key buffer [rows, kvHeads, headDim] by `deltaPositions`
 * (negative moves keys towards position 0).
 */
export function rotateKeyRows(
  keys: Float32Array,
  rowStart: number,
  rowEnd: number,
  numKvHeads: number,
  invFreq: Float64Array,
  deltaPositions: number,
): void {
  if (deltaPositions === 0 || rowEnd <= rowStart) return;
  const half = invFreq.length;
  const cos = new Float64Array(half);
  const sin = new Float64Array(half);
  for (let i = 0; i < half; i++) {
    const angle = deltaPositions * invFreq[i];
    cos[i] = Math.cos(angle);
    sin[i] = Math.sin(angle);
  }
  rotateRowsWith(keys, rowStart, rowEnd, numKvHeads, cos, sin);
}

/** Rotate rows [rowStart, rowEnd) by precomputed per-pair cos/sin (float64 arithmetic, float32 storage). */
export function rotateRowsWith(
  keys: Float32Array,
  rowStart: number,
  rowEnd: number,
  numKvHeads: number,
  cos: Float64Array,
  sin: Float64Array,
): void {
  if (rowEnd <= rowStart) return;
  const half = cos.length;
  const headDim = half * 2;
  const heads = (rowEnd - rowStart) * numKvHeads;
  let base = rowStart * numKvHeads * headDim;
  for (let h = 0; h < heads; h++, base += headDim) {
    for (let i = 0; i < half; i++) {
      const x1 = keys[base + i];
      const x2 = keys[base + i + half];
      keys[base + i] = x1 * cos[i] - x2 * sin[i];
      keys[base + i + half] = x2 * cos[i] + x1 * sin[i];
    }
  }
}

/** Apply RoPE at `position` to one head vector in place (used by the pure-TS fake decoder in tests). */
export function applyRope(vec: Float32Array, offset: number, invFreq: Float64Array, position: number): void {
  const half = invFreq.length;
  for (let i = 0; i < half; i++) {
    const a = position * invFreq[i];
    const c = Math.cos(a);
    const s = Math.sin(a);
    const x1 = vec[offset + i];
    const x2 = vec[offset + i + half];
    vec[offset + i] = x1 * c - x2 * s;
    vec[offset + i + half] = x2 * c + x1 * s;
  }
}
