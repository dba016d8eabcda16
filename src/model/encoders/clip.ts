/**
 * The CLIP ONNX layout users bring (encoder-folder.ts): vision_model.onnx embeds single frames,
 * pixel_values [N, 3, H, W] -> image_embeds; text_model.onnx takes input_ids (and attention_mask when the
 * graph has it) -> text_embeds. A clip's vector is the mean of its L2-normed frame vectors (mean pooling).
 */
import * as ort from 'onnxruntime-node';
import { runGuarded } from '../device-tensors.js';
import type { ClipFrames, EncoderRuntime } from '../encoder.js';
import type { EncoderSpec } from '../encoder-folder.js';
import { TextTokenizer } from '../tokenizer.js';
import { clipPixels, knownIds, l2Normalize, openGraph, probeEmbedDim } from './io.js';

const int64Row = (ids: number[]): ort.Tensor => new ort.Tensor('int64', BigInt64Array.from(ids, (v) => BigInt(v)), [1, ids.length]);

export async function createClipEncoder(spec: EncoderSpec, intraOpThreads: number): Promise<EncoderRuntime> {
  const tokenizer = new TextTokenizer(spec.tokenizerJson);
  const vision = await openGraph(spec, spec.videoPath, { file: 'vision_model.onnx', inputs: ['pixel_values'], output: 'image_embeds' }, intraOpThreads);
  const text = await openGraph(spec, spec.textPath, { file: 'text_model.onnx', inputs: ['input_ids'], output: 'text_embeds' }, intraOpThreads);
  const textHasMask = text.session.inputNames.includes('attention_mask');
  const { imageWidth: w, imageHeight: h } = spec;

  /** The tokenizer's own template adds start/end of text; a cut keeps the last id, the end of text CLIP pools at. */
  function textIds(t: string): number[] {
    const ids = knownIds(tokenizer.encodeWithSpecialTokens(t));
    return ids.length <= spec.maxTokens ? ids : [...ids.slice(0, spec.maxTokens - 1), ids[ids.length - 1]];
  }

  /** Every frame of every clip through vision_model.onnx in one call, then the mean per clip. */
  async function embedClips(clips: ClipFrames[]): Promise<Float32Array[]> {
    const total = clips.reduce((n, c) => n + c.frames, 0);
    const one = 3 * w * h;
    const batch = new Float32Array(total * one);
    let at = 0;
    for (const c of clips) {
      batch.set(clipPixels(spec, c), at * one);
      at += c.frames;
    }
    const r = await runGuarded(vision, { pixel_values: new ort.Tensor('float32', batch, [total, 3, h, w]) });
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
    const ids = textIds(query);
    const feeds: Record<string, ort.Tensor> = { input_ids: int64Row(ids) };
    if (textHasMask) feeds.attention_mask = int64Row(ids.map(() => 1));
    const r = await runGuarded(text, feeds);
    return l2Normalize((r.text_embeds.data as Float32Array).slice());
  }

  return {
    spec,
    embedDim: await probeEmbedDim(spec, embedClips),
    embedClips: (clips) => (clips.length === 0 ? Promise.resolve([]) : embedClips(clips)),
    embedText,
    // No pad token is known for a user's CLIP tokenizer: texts go one by one.
    async embedTexts(texts) {
      const out: Float32Array[] = [];
      for (const t of texts) out.push(await embedText(t));
      return out;
    },
    async release() {
      await Promise.all([vision.session.release(), text.session.release()]);
    },
  };
}
