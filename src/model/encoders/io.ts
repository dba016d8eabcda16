/**
 * What the encoder layouts share: graphs opened through onnx-session.ts (CPU) with the encoder session
 * options, checked for the names the layout feeds and reads (openGraph: sightline-retrieval; the HF layouts
 * check theirs in hf-graphs.ts), clip bytes checked and turned into pixel values, token ids tokenizers.js
 * could map, and the L2 normalisation of every vector returned.
 */
import { SightlineError } from '../../errors.js';
import type { GuardedSession } from '../device-tensors.js';
import type { ClipFrames } from '../encoder.js';
import type { EncoderSpec } from '../encoder-folder.js';
import { FOLD_STORED_WEIGHTS, openSession } from '../onnx-session.js';
import { framesToPixelValues } from '../preprocess.js';

export function l2Normalize(v: Float32Array): Float32Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
  for (let i = 0; i < v.length; i++) v[i] *= inv;
  return v;
}

/** What a layout needs of one graph file: the inputs it feeds and the output it reads. */
export interface GraphNames {
  /** The file as the layout's docs name it, for errors. */
  file: string;
  inputs: string[];
  output: string;
}

/**
 * Without onnxruntime's CPU memory arena: a search server encodes clips and queries of changing shapes, and
 * the arena kept the largest set of buffers it had needed for the life of the process (measured with
 * bench/search-memory.ts: 40 to 125 MB of the RSS that indexing and searching left behind, docs/search.md
 * "Memory"). Plain allocations go back to malloc after each call. SIGHTLINE_ENCODER_ARENA=1 keeps the arena
 * (for comparisons).
 */
export const ENCODER_SESSION_OPTIONS = { enableCpuMemArena: process.env.SIGHTLINE_ENCODER_ARENA === '1' };

/** `ownWeights`: a graph of the project's own (see FOLD_STORED_WEIGHTS), not a folder a user brought. */
export async function openGraph(spec: EncoderSpec, path: string, names: GraphNames, intraOpThreads: number, ownWeights = false): Promise<GuardedSession> {
  const graph = await openSession(`encoder folder ${spec.dir}`, path, { provider: 'cpu', intraOpThreads }, { ...ENCODER_SESSION_OPTIONS, ...(ownWeights ? FOLD_STORED_WEIGHTS : {}) });
  const missing = names.inputs.filter((n) => !graph.session.inputNames.includes(n));
  if (!graph.session.outputNames.includes(names.output)) missing.push(`output ${names.output}`);
  if (missing.length > 0) throw new SightlineError('model_invalid', `encoder folder ${spec.dir}: ${names.file} lacks ${missing.join(', ')}`);
  return graph;
}

/** One clip -> pixel_values [frames, 3, H, W]; `bad_input` when its bytes are not `frames` frames of the spec's size. */
export function clipPixels(spec: EncoderSpec, c: ClipFrames): Float32Array {
  const { imageWidth: w, imageHeight: h } = spec;
  if (c.frames < 1 || c.rgb.length !== c.frames * w * h * 3) {
    throw new SightlineError('bad_input', `clip of ${c.frames} frames has ${c.rgb.length} bytes, expected ${c.frames * w * h * 3} (${w}x${h} RGB24)`);
  }
  return framesToPixelValues(c.rgb, c.frames, w, h, spec);
}

/** tokenizers.js gives no id for a word a WordLevel vocabulary lacks (no unk mapping): such words are dropped. */
export const knownIds = (ids: number[]): number[] => ids.filter((id) => Number.isInteger(id));

/** The vector size, from one black frame through the layout's video path. */
export async function probeEmbedDim(spec: EncoderSpec, embedClips: (clips: ClipFrames[]) => Promise<Float32Array[]>): Promise<number> {
  const [v] = await embedClips([{ rgb: new Uint8Array(spec.imageWidth * spec.imageHeight * 3), frames: 1 }]);
  return v.length;
}
