/**
 * The onnxruntime side of a retrieval encoder: clips of RGB24 frames -> L2-normalised video vectors,
 * texts -> L2-normalised text vectors, for either folder layout (encoder-folder.ts). session.run blocks
 * the calling thread, so the indexer and the server run this inside encoder.worker.ts; benches and
 * tests may call it directly.
 */
import * as ort from 'onnxruntime-node';
import { SightlineError } from '../errors.js';
import { framesToPixelValues } from '../model/preprocess.js';
import { TextTokenizer } from '../model/tokenizer.js';
import type { EncoderSpec } from './encoder-folder.js';

/** One clip: `frames` packed RGB24 frames of the spec's image size. */
export interface ClipFrames {
  rgb: Uint8Array;
  frames: number;
}

export interface EncoderRuntime {
  readonly embedDim: number;
  embedClips(clips: ClipFrames[]): Promise<Float32Array[]>;
  embedText(text: string): Promise<Float32Array>;
  /** Many texts (eval's captions): sightline-retrieval runs `batch` at a time, right-padded; CLIP one by one. */
  embedTexts(texts: readonly string[], batch?: number): Promise<Float32Array[]>;
  release(): Promise<void>;
}

export function l2Normalize(v: Float32Array): Float32Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
  for (let i = 0; i < v.length; i++) v[i] *= inv;
  return v;
}

async function open(spec: EncoderSpec, path: string, threads: number): Promise<ort.InferenceSession> {
  try {
    return await ort.InferenceSession.create(path, { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
  } catch (err) {
    const msg = ((err as Error).message ?? String(err)).split('\n')[0];
    throw new SightlineError('model_invalid', `encoder folder ${spec.dir}: ${path.split('/').pop()} cannot be loaded: ${msg}`, { cause: err });
  }
}

function requireNames(spec: EncoderSpec, session: ort.InferenceSession, file: string, inputs: string[], output: string): void {
  const missing = inputs.filter((n) => !session.inputNames.includes(n));
  if (!session.outputNames.includes(output)) missing.push(`output ${output}`);
  if (missing.length > 0) throw new SightlineError('model_invalid', `encoder folder ${spec.dir}: ${file} lacks ${missing.join(', ')}`);
}

const int64Row = (ids: number[]): ort.Tensor => new ort.Tensor('int64', BigInt64Array.from(ids, (v) => BigInt(v)), [1, ids.length]);

/** Text -> token ids as the folder's model was trained: bos + ids + eos (sightline) or the tokenizer's own template (CLIP). */
export function textIds(spec: EncoderSpec, tokenizer: TextTokenizer, text: string): number[] {
  // tokenizers.js gives no id for a word a WordLevel vocabulary lacks (no unk mapping): such words are dropped.
  const known = (ids: number[]) => ids.filter((id) => Number.isInteger(id));
  if (spec.special) {
    const [bos, eos] = [spec.special.bos, spec.special.eos].map((t) => tokenizer.singleTokenId(t)!);
    return [bos, ...known(tokenizer.encode(text)).slice(0, spec.maxTokens - 2), eos];
  }
  const ids = known(tokenizer.encodeWithSpecialTokens(text));
  // Keep the last id (CLIP's end-of-text, which its text model pools at) when cutting.
  return ids.length <= spec.maxTokens ? ids : [...ids.slice(0, spec.maxTokens - 1), ids[ids.length - 1]];
}

export async function createEncoderRuntime(spec: EncoderSpec, intraOpThreads = 1): Promise<EncoderRuntime> {
  const tokenizer = new TextTokenizer(spec.tokenizerJson);
  const video = await open(spec, spec.videoPath, intraOpThreads);
  const text = await open(spec, spec.textPath, intraOpThreads);
  const sightline = spec.layout === 'sightline-retrieval';
  requireNames(spec, video, sightline ? 'video.onnx' : 'vision_model.onnx', ['pixel_values'], sightline ? 'video_embeds' : 'image_embeds');
  requireNames(spec, text, sightline ? 'text.onnx' : 'text_model.onnx', sightline ? ['input_ids', 'attention_mask'] : ['input_ids'], 'text_embeds');
  const textHasMask = text.inputNames.includes('attention_mask');
  const { imageWidth: w, imageHeight: h } = spec;
  const frameBytes = w * h * 3;

  const pixels = (c: ClipFrames): Float32Array => {
    if (c.frames < 1 || c.rgb.length !== c.frames * frameBytes) {
      throw new SightlineError('bad_input', `clip of ${c.frames} frames has ${c.rgb.length} bytes, expected ${c.frames * frameBytes} (${w}x${h} RGB24)`);
    }
    return framesToPixelValues(c.rgb, c.frames, w, h, spec);
  };

  /** sightline-retrieval: clips of equal frame count go through video.onnx as one batch. */
  async function embedSightline(clips: ClipFrames[]): Promise<Float32Array[]> {
    const out = new Array<Float32Array>(clips.length);
    const byFrames = new Map<number, number[]>();
    clips.forEach((c, i) => byFrames.set(c.frames, [...(byFrames.get(c.frames) ?? []), i]));
    for (const [frames, idx] of byFrames) {
      const one = frames * 3 * w * h;
      const batch = new Float32Array(idx.length * one);
      idx.forEach((ci, j) => batch.set(pixels(clips[ci]), j * one));
      const r = await video.run({ pixel_values: new ort.Tensor('float32', batch, [idx.length, frames, 3, h, w]) });
      const data = r.video_embeds.data as Float32Array;
      const dim = data.length / idx.length;
      idx.forEach((ci, j) => (out[ci] = l2Normalize(data.slice(j * dim, (j + 1) * dim))));
    }
    return out;
  }

  /** CLIP: every frame through vision_model.onnx, then per clip the mean of the L2-normed frame vectors. */
  async function embedClipLayout(clips: ClipFrames[]): Promise<Float32Array[]> {
    const total = clips.reduce((n, c) => n + c.frames, 0);
    const one = 3 * w * h;
    const batch = new Float32Array(total * one);
    let at = 0;
    for (const c of clips) {
      batch.set(pixels(c), at * one);
      at += c.frames;
    }
    const r = await video.run({ pixel_values: new ort.Tensor('float32', batch, [total, 3, h, w]) });
    const data = r.image_embeds.data as Float32Array;
    const dim = data.length / total;
    at = 0;
    return clips.map((c) => {
      const mean = new Float32Array(dim);
      for (let f = 0; f < c.frames; f++, at++) {
        const frame = l2Normalize(data.slice(at * dim, (at + 1) * dim));
        for (let j = 0; j < dim; j++) mean[j] += frame[j];
      }
      return l2Normalize(mean);
    });
  }

  async function embedText(query: string): Promise<Float32Array> {
    const ids = textIds(spec, tokenizer, query);
    const feeds: Record<string, ort.Tensor> = { input_ids: int64Row(ids) };
    if (textHasMask) feeds.attention_mask = int64Row(ids.map(() => 1));
    const r = await text.run(feeds);
    return l2Normalize((r.text_embeds.data as Float32Array).slice());
  }

  /** sightline-retrieval: rows right-padded with its pad token, masked out (padding does not change an embedding). */
  async function embedTextBatch(texts: readonly string[], pad: number): Promise<Float32Array[]> {
    const rows = texts.map((t) => textIds(spec, tokenizer, t));
    const width = Math.max(...rows.map((r) => r.length));
    const ids = new BigInt64Array(rows.length * width).fill(BigInt(pad));
    const mask = new BigInt64Array(rows.length * width);
    rows.forEach((r, i) => r.forEach((id, j) => ((ids[i * width + j] = BigInt(id)), (mask[i * width + j] = 1n))));
    const r = await text.run({ input_ids: new ort.Tensor('int64', ids, [rows.length, width]), attention_mask: new ort.Tensor('int64', mask, [rows.length, width]) });
    const data = r.text_embeds.data as Float32Array;
    const dim = data.length / rows.length;
    return rows.map((_, i) => l2Normalize(data.slice(i * dim, (i + 1) * dim)));
  }

  const probe = await (sightline ? embedSightline : embedClipLayout)([{ rgb: new Uint8Array(frameBytes), frames: 1 }]);
  return {
    embedDim: probe[0].length,
    embedClips: (clips) => (clips.length === 0 ? Promise.resolve([]) : sightline ? embedSightline(clips) : embedClipLayout(clips)),
    embedText,
    async embedTexts(texts, batch = 64) {
      const pad = spec.special ? tokenizer.singleTokenId(spec.special.pad) : undefined;
      const out: Float32Array[] = [];
      for (let at = 0; at < texts.length; at += pad === undefined ? 1 : batch) {
        if (pad === undefined) out.push(await embedText(texts[at]));
        else out.push(...(await embedTextBatch(texts.slice(at, at + batch), pad)));
      }
      return out;
    },
    async release() {
      await Promise.all([video.release(), text.release()]);
    },
  };
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
