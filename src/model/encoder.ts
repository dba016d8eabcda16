/**
 * Retrieval encoders: clips of RGB24 frames -> video vectors, texts -> text vectors, all L2-normalised
 * into one space. One implementation per folder layout (encoders/), picked from the folder by
 * createEncoderRuntime. session.run blocks the calling thread, so the indexer and the server hold an
 * EncoderClient (encoder.worker.ts runs the encoder); eval, benches and tests may run one in their thread.
 */
import { SightlineError } from '../errors.js';
import type { EncoderSpec, SiglipScoring } from './encoder-folder.js';
import { createHfDualEncoder } from './encoders/hf-dual.js';
import { createSightlineEncoder } from './encoders/sightline-retrieval.js';

export { l2Normalize } from './encoders/io.js';
export { siglipProbability } from './encoders/hf-dual.js';

/** One clip: `frames` packed RGB24 frames of the spec's image size. */
export interface ClipFrames {
  rgb: Uint8Array;
  frames: number;
}

/** An encoder running in this thread; what every layout implements. */
export interface EncoderRuntime {
  readonly spec: EncoderSpec;
  readonly embedDim: number;
  /** SigLIP folders whose logit scale and bias are known: probability = sigmoid(scale * cos + bias). */
  readonly scoring?: SiglipScoring;
  embedClips(clips: ClipFrames[]): Promise<Float32Array[]>;
  embedText(text: string): Promise<Float32Array>;
  /** Many texts (eval's captions): sightline-retrieval and SigLIP run `batch` at a time, padded; CLIP one by one. */
  embedTexts(texts: readonly string[], batch?: number): Promise<Float32Array[]>;
  release(): Promise<void>;
}

const BY_LAYOUT: Record<EncoderSpec['layout'], (spec: EncoderSpec, intraOpThreads: number) => Promise<EncoderRuntime>> = {
  'sightline-retrieval': createSightlineEncoder,
  clip: createHfDualEncoder,
  siglip: createHfDualEncoder,
};

/** The folder's encoder, on the CPU with `intraOpThreads` onnxruntime threads per graph. */
export function createEncoderRuntime(spec: EncoderSpec, intraOpThreads = 1): Promise<EncoderRuntime> {
  return BY_LAYOUT[spec.layout](spec, intraOpThreads);
}

/** Vectors -> one row-major [n x dim] array (the layout eval's similarity matrix takes). */
export function stackRows(rows: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(rows.reduce((n, r) => n + r.length, 0));
  let at = 0;
  for (const r of rows) {
    out.set(r, at);
    at += r.length;
  }
  return out;
}

/** `clips` clips of `framesPerClip` packed RGB24 frames each (one buffer, clip after clip) -> [clips x dim]. */
export async function embedPackedClips(runtime: EncoderRuntime, rgb: Uint8Array, clips: number, framesPerClip: number): Promise<Float32Array> {
  const bytes = rgb.length / clips;
  if (!Number.isInteger(bytes)) throw new SightlineError('bad_input', `embedPackedClips: ${rgb.length} bytes do not split into ${clips} clips`);
  const list = Array.from({ length: clips }, (_, c) => ({ rgb: rgb.subarray(c * bytes, (c + 1) * bytes), frames: framesPerClip }));
  return stackRows(await runtime.embedClips(list));
}
