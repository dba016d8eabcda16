/**
 * The sightline-retrieval layout (our Prompt-Switch and mean-pooling folders, docs/retrieval-model.md):
 * video.onnx takes whole clips, pixel_values [B, F, 3, H, W] -> video_embeds [B, D]; text.onnx takes
 * input_ids and attention_mask -> text_embeds. The folder's bos/eos wrap the tokenizer's ids, as in training.
 */
import * as ort from 'onnxruntime-node';
import { SightlineError } from '../../errors.js';
import { runGuarded } from '../device-tensors.js';
import type { ClipFrames, EncoderRuntime } from '../encoder.js';
import type { EncoderSpec } from '../encoder-folder.js';
import { TextTokenizer } from '../tokenizer.js';
import { clipPixels, knownIds, l2Normalize, openGraph, probeEmbedDim } from './io.js';

/** Captions per text.onnx call in embedTexts (eval's batches). */
const TEXT_BATCH = 64;

export async function createSightlineEncoder(spec: EncoderSpec, intraOpThreads: number): Promise<EncoderRuntime> {
  if (!spec.special) throw new SightlineError('model_invalid', `encoder folder ${spec.dir}: no bos/eos/pad tokens in config.json`);
  const tokenizer = new TextTokenizer(spec.tokenizerJson);
  const video = await openGraph(spec, spec.videoPath, { file: 'video.onnx', inputs: ['pixel_values'], output: 'video_embeds' }, intraOpThreads, true);
  const text = await openGraph(spec, spec.textPath, { file: 'text.onnx', inputs: ['input_ids', 'attention_mask'], output: 'text_embeds' }, intraOpThreads, true);
  // encoder-folder.ts has checked that each is exactly one token.
  const [bos, eos, pad] = [spec.special.bos, spec.special.eos, spec.special.pad].map((t) => tokenizer.singleTokenId(t)!);
  const { imageWidth: w, imageHeight: h } = spec;

  const textIds = (t: string): number[] => [bos, ...knownIds(tokenizer.encode(t)).slice(0, spec.maxTokens - 2), eos];

  /** Clips of equal frame count go through video.onnx as one batch. */
  async function embedClips(clips: ClipFrames[]): Promise<Float32Array[]> {
    const out = new Array<Float32Array>(clips.length);
    const byFrames = new Map<number, number[]>();
    clips.forEach((c, i) => byFrames.set(c.frames, [...(byFrames.get(c.frames) ?? []), i]));
    for (const [frames, idx] of byFrames) {
      const one = frames * 3 * w * h;
      const batch = new Float32Array(idx.length * one);
      idx.forEach((ci, j) => batch.set(clipPixels(spec, clips[ci]), j * one));
      const r = await runGuarded(video, { pixel_values: new ort.Tensor('float32', batch, [idx.length, frames, 3, h, w]) });
      const data = r.video_embeds.data as Float32Array;
      const dim = data.length / idx.length;
      idx.forEach((ci, j) => (out[ci] = l2Normalize(data.slice(j * dim, (j + 1) * dim))));
    }
    return out;
  }

  /** Texts as one batch: rows right-padded with the pad token, masked out (padding does not change an embedding). */
  async function embedRows(texts: readonly string[]): Promise<Float32Array[]> {
    const rows = texts.map(textIds);
    const width = Math.max(...rows.map((r) => r.length));
    const ids = new BigInt64Array(rows.length * width).fill(BigInt(pad));
    const mask = new BigInt64Array(rows.length * width);
    rows.forEach((r, i) => r.forEach((id, j) => ((ids[i * width + j] = BigInt(id)), (mask[i * width + j] = 1n))));
    const shape = [rows.length, width];
    const r = await runGuarded(text, { input_ids: new ort.Tensor('int64', ids, shape), attention_mask: new ort.Tensor('int64', mask, shape) });
    const data = r.text_embeds.data as Float32Array;
    const dim = data.length / rows.length;
    return rows.map((_, i) => l2Normalize(data.slice(i * dim, (i + 1) * dim)));
  }

  return {
    spec,
    embedDim: await probeEmbedDim(spec, embedClips),
    embedClips: (clips) => (clips.length === 0 ? Promise.resolve([]) : embedClips(clips)),
    // A query is a batch of one: no padding, the mask all ones.
    embedText: async (query) => (await embedRows([query]))[0],
    async embedTexts(texts, batch = TEXT_BATCH) {
      const out: Float32Array[] = [];
      for (let at = 0; at < texts.length; at += batch) out.push(...(await embedRows(texts.slice(at, at + batch))));
      return out;
    },
    async release() {
      await Promise.all([video.session.release(), text.session.release()]);
    },
  };
}
