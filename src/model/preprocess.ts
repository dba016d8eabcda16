/** RGB24 frames -> normalised channel-first float32, the `pixel_values` layout of vision.onnx. */
export interface PixelNorm {
  mean: readonly number[];
  std: readonly number[];
}

/**
 * `rgb` holds `frames` packed frames of width x height x 3 bytes; returns [frames, 3, height, width]. With
 * `into` (at least that long) the values are written there and a view of it is returned, so a caller that
 * converts every second reuses one buffer instead of leaving ~1 MB a second to the garbage collector.
 */
export function framesToPixelValues(rgb: Uint8Array, frames: number, width: number, height: number, norm: PixelNorm, into?: Float32Array): Float32Array {
  const plane = width * height;
  const floats = frames * 3 * plane;
  if (into && into.length < floats) throw new RangeError(`framesToPixelValues: buffer of ${into.length} floats, ${floats} needed`);
  const out = into ? into.subarray(0, floats) : new Float32Array(floats);
  const scale = [0, 1, 2].map((c) => 1 / (255 * norm.std[c]));
  const shift = [0, 1, 2].map((c) => norm.mean[c] / norm.std[c]);
  for (let f = 0; f < frames; f++) {
    const src = f * plane * 3;
    const dst = f * plane * 3;
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < 3; c++) out[dst + c * plane + p] = rgb[src + p * 3 + c] * scale[c] - shift[c];
    }
  }
  return out;
}
