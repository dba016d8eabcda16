/**
 * CLIP and SigLIP folders users bring (hf-encoder-folder.ts), towers or one model.onnx (hf-graphs.ts), as
 * mean-pooling video encoders: every frame of a clip through the image tower, each vector L2-normed, the
 * mean L2-normed. Texts: the tokenizer's own template (start/end tokens); CLIP's go one by one, unpadded;
 * SigLIP's are padded to max_length with its pad token, as it was trained, and so batch freely.
 *
 * SigLIP's probability sigmoid(scale * cos + bias) ranks exactly as the cosine (scale > 0), so search ranks
 * by cosine for every model; `scoring` (from sightline-scoring.json, or read off model.onnx's logits here)
 * lets the API add the probability.
 */
import { basename } from 'node:path';
import type { ClipFrames, EncoderRuntime } from '../encoder.js';
import type { EncoderSpec, SiglipScoring } from '../encoder-folder.js';
import { SightlineError } from '../../errors.js';
import { TextTokenizer } from '../tokenizer.js';
import { openDualGraphs, type DualGraphs } from './hf-graphs.js';
import { clipPixels, knownIds, l2Normalize, probeEmbedDim } from './io.js';

/** SigLIP texts per text-graph call in embedTexts (every row is max_length ids). */
const TEXT_BATCH = 32;

/** Texts whose logits against one image give the scale and bias (any texts with different cosines do). */
const PROBE_TEXTS = ['a photo of a dog', 'a diagram', 'two people on a street at night'];

export async function createHfDualEncoder(spec: EncoderSpec, intraOpThreads: number): Promise<EncoderRuntime> {
  const tokenizer = new TextTokenizer(spec.tokenizerJson);
  const graphs = await openDualGraphs(spec, intraOpThreads);
  const { imageWidth: w, imageHeight: h } = spec;

  /** The tokenizer's ids with its start/end tokens; a cut keeps the last id (the end token CLIP and SigLIP pool at). */
  function textRow(t: string): number[] {
    const ids = knownIds(tokenizer.encodeWithSpecialTokens(t));
    const max = spec.padTo?.length ?? spec.maxTokens;
    return ids.length <= max ? ids : [...ids.slice(0, max - 1), ids[ids.length - 1]];
  }

  /** Equal-length rows: SigLIP's padded to max_length with the pad id (mask 0 there); CLIP rows come alone. */
  function rowsOf(texts: readonly string[]): { ids: number[][]; mask: number[][] } {
    const rows = texts.map(textRow);
    const width = spec.padTo?.length ?? Math.max(...rows.map((r) => r.length));
    const pad = spec.padTo?.id ?? 0;
    return {
      ids: rows.map((r) => [...r, ...new Array<number>(width - r.length).fill(pad)]),
      mask: rows.map((r) => [...r.map(() => 1), ...new Array<number>(width - r.length).fill(0)]),
    };
  }

  async function embedRows(texts: readonly string[]): Promise<Float32Array[]> {
    const { ids, mask } = rowsOf(texts);
    return (await graphs.texts(ids, mask)).map(l2Normalize);
  }

  /** Every frame of every clip through the image graph in one call, then the mean per clip. */
  async function embedClips(clips: ClipFrames[]): Promise<Float32Array[]> {
    const total = clips.reduce((n, c) => n + c.frames, 0);
    const one = 3 * w * h;
    const batch = new Float32Array(total * one);
    let at = 0;
    for (const c of clips) {
      batch.set(clipPixels(spec, c), at * one);
      at += c.frames;
    }
    const frames = await graphs.images(batch, total);
    at = 0;
    return clips.map((c) => {
      const mean = new Float32Array(frames[at].length);
      for (let f = 0; f < c.frames; f++, at++) {
        const v = l2Normalize(frames[at]);
        for (let j = 0; j < mean.length; j++) mean[j] += v[j];
      }
      return l2Normalize(mean);
    });
  }

  const embedText = async (query: string): Promise<Float32Array> => (await embedRows([query]))[0];

  try {
    const embedDim = await probeEmbedDim(spec, embedClips);
    const textDim = (await embedText('a')).length;
    if (textDim !== embedDim) {
      throw new SightlineError('model_invalid', `encoder folder ${spec.dir}: text vectors have ${textDim} values, image vectors ${embedDim} (the graphs are not one model's towers)`);
    }
    const scoring = spec.scoring ?? (spec.layout === 'siglip' ? await scoringFromLogits(spec, graphs, rowsOf(PROBE_TEXTS)) : undefined);
    return {
      spec,
      embedDim,
      ...(scoring ? { scoring } : {}),
      embedClips: (clips) => (clips.length === 0 ? Promise.resolve([]) : embedClips(clips)),
      embedText,
      async embedTexts(texts, batch = TEXT_BATCH) {
        const out: Float32Array[] = [];
        // CLIP rows are not padded (its pad token is not known for every tokenizer): one per call.
        const step = spec.padTo ? batch : 1;
        for (let at = 0; at < texts.length; at += step) out.push(...(await embedRows(texts.slice(at, at + step))));
        return out;
      },
      release: () => graphs.release(),
    };
  } catch (err) {
    await graphs.release();
    throw err;
  }
}

/**
 * SigLIP's scale and bias read off a combined graph: logits_per_text = scale * cos + bias for each probe text
 * against one image; two texts with different cosines fix both. Undefined when the graph has no logits or
 * the cosines are too close to tell.
 */
async function scoringFromLogits(spec: EncoderSpec, graphs: DualGraphs, rows: { ids: number[][]; mask: number[][] }): Promise<SiglipScoring | undefined> {
  if (!graphs.logits) return undefined;
  const { imageWidth: w, imageHeight: h } = spec;
  const plane = w * h;
  // A smooth colour ramp, in pixel-value units.
  const pixels = Float32Array.from({ length: 3 * plane }, (_, i) => ((i % plane) / plane) * 2 - 1 + (Math.floor(i / plane) - 1) * 0.3);
  const got = await graphs.logits(rows.ids, rows.mask, pixels);
  if (!got) return undefined;
  const image = l2Normalize(got.image.slice());
  const cos = got.texts.map((t) => l2Normalize(t.slice()).reduce((s, v, j) => s + v * image[j], 0));
  let best: [number, number] = [0, 1];
  for (let i = 0; i < cos.length; i++) for (let j = i + 1; j < cos.length; j++) if (Math.abs(cos[i] - cos[j]) > Math.abs(cos[best[0]] - cos[best[1]])) best = [i, j];
  const [i, j] = best;
  if (Math.abs(cos[i] - cos[j]) < 1e-3) return undefined;
  const scale = (got.logits[i] - got.logits[j]) / (cos[i] - cos[j]);
  const bias = got.logits[i] - scale * cos[i];
  return Number.isFinite(scale) && scale > 0 && Number.isFinite(bias) ? { scale, bias, from: `${basename(spec.videoPath)} logits` } : undefined;
}

/** sigmoid(scale * cos + bias): SigLIP's probability that text and clip match. */
export function siglipProbability(cos: number, s: Pick<SiglipScoring, 'scale' | 'bias'>): number {
  return 1 / (1 + Math.exp(-(s.scale * cos + s.bias)));
}
