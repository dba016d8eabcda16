/**
 * Hugging Face ONNX exports of CLIP and SigLIP (the transformers.js / Xenova layout), read into an EncoderSpec:
 *
 *   config.json               model_type "clip" | "siglip" (absent: CLIP), text_config, vision_config
 *   preprocessor_config.json  size / crop_size, do_rescale + rescale_factor, do_normalize + image_mean/std
 *   tokenizer.json            tokenizers.js reads it; its post-processor adds the start/end tokens
 *   tokenizer_config.json     model_max_length, pad_token (optional)
 *   onnx/ (or the top level)  vision_model{,_V}.onnx + text_model{,_V}.onnx   (towers), or
 *                             model{,_V}.onnx                               (both towers in one graph)
 *   sightline-scoring.json    optional, Sightline's own: SigLIP's trained {logit_scale, logit_bias}
 *
 * V is the variant (`--variant`): fp16, quantized, int8, uint8, q4, q4f16, bnb4 (transformers.js dtype names
 * fp32 and q8 mean the plain file and quantized). Without one the plain files are read, never a variant in
 * their place. Towers win over model.onnx when both are there (a query then runs the text graph alone).
 *
 * Preprocessing follows the folder's image processor: CLIP resizes the short side and centre-crops (the
 * ingest's cover + crop), SigLIP resizes to size.height x size.width (stretch); rescale and normalisation are
 * folded into one mean/std over 0..255 bytes. SigLIP's texts are padded to max_length (64) with its pad token.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { invalid, readOptionalJson, requireFile, tokenizerOf } from './folder-files.js';
import type { EncoderSpec, SiglipScoring } from './encoder-folder.js';

export const HF_MODEL_TYPES = ['clip', 'siglip'] as const;
export type HfModelType = (typeof HF_MODEL_TYPES)[number];

/** Sightline's sidecar for SigLIP's trained logit scale and bias (docs/byo-models.md). */
export const SCORING_FILE = 'sightline-scoring.json';

const DEFAULTS: Record<HfModelType, { imageSize: number; mean: number[]; std: number[]; maxTokens: number }> = {
  clip: { imageSize: 224, mean: [0.48145466, 0.4578275, 0.40821073], std: [0.26862954, 0.26130258, 0.27577711], maxTokens: 77 },
  siglip: { imageSize: 224, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], maxTokens: 64 },
};
const FRAMES_PER_CLIP = 8;
const CLIP_SECONDS = 10;
/** tokenizer_config's model_max_length for "no limit" is 1e30; anything this large is no limit. */
const NO_LIMIT = 1e6;

const GRAPH_RE = /^(vision_model|text_model|model)(?:_([a-z0-9]+))?\.onnx$/;

/** `--variant` value -> file suffix ('' = the plain files). */
export function variantSuffix(variant: string | undefined): string {
  const v = (variant ?? '').trim().toLowerCase();
  if (v === '' || v === 'fp32') return '';
  if (v === 'q8') return 'quantized';
  return v;
}

/** onnx/ when it holds graphs, else the folder itself. */
function graphDir(dir: string): string {
  const sub = join(dir, 'onnx');
  return existsSync(sub) && statSync(sub).isDirectory() && readdirSync(sub).some((f) => GRAPH_RE.test(f)) ? 'onnx' : '';
}

/** Whether the folder holds CLIP/SigLIP graph files (under onnx/ or at the top level). */
export function hasHfGraphs(dir: string): boolean {
  return graphDir(dir) !== '' || readdirSync(dir).some((f) => GRAPH_RE.test(f));
}

function variantsIn(dir: string, sub: string): string[] {
  const found = new Set<string>();
  for (const f of readdirSync(join(dir, sub))) {
    const m = GRAPH_RE.exec(f);
    if (m) found.add(m[2] ?? 'fp32 (plain)');
  }
  return [...found].sort();
}

/** Towers if both are there, else model.onnx; errors name what is missing and the variants present. */
function resolveGraphs(dir: string, suffix: string): { graphs: 'towers' | 'combined'; video: string; text: string } {
  const sub = graphDir(dir);
  const rel = (base: string) => join(sub, `${base}${suffix ? `_${suffix}` : ''}.onnx`);
  const [vision, text, model] = [rel('vision_model'), rel('text_model'), rel('model')];
  const has = (f: string) => existsSync(join(dir, f));
  if (has(vision) && has(text)) return { graphs: 'towers', video: requireFile(dir, vision), text: requireFile(dir, text) };
  if (has(model)) {
    const path = requireFile(dir, model);
    return { graphs: 'combined', video: path, text: path };
  }
  if (has(vision) || has(text)) {
    const [present, absent] = has(vision) ? [vision, text] : [text, vision];
    throw invalid(dir, `${absent} is missing (${present} is here; give both towers, or ${model})`);
  }
  const variants = variantsIn(dir, sub).filter((v) => v !== (suffix || 'fp32 (plain)'));
  const hint = variants.length > 0 ? `; variants here: ${variants.join(', ')} (pass --variant NAME)` : '';
  throw invalid(dir, `${vision} + ${text} or ${model} is missing${hint}`);
}

/** [width, height] of the model input, from the image processor (crop when it centre-crops, else size). */
function imageSize(type: HfModelType, pre: Record<string, unknown>, config: Record<string, unknown>): { width: number; height: number; fit: 'cover' | 'stretch' } | string {
  const dims = (v: unknown): [number, number] | undefined => {
    if (typeof v === 'number' && v > 0) return [v, v];
    const o = v as { height?: unknown; width?: unknown; shortest_edge?: unknown } | undefined;
    if (o && typeof o.height === 'number' && typeof o.width === 'number') return [o.width, o.height];
    if (o && typeof o.shortest_edge === 'number') return [o.shortest_edge, o.shortest_edge];
    return undefined;
  };
  const vision = config.vision_config as { image_size?: unknown } | undefined;
  const fallback = dims(vision?.image_size) ?? [DEFAULTS[type].imageSize, DEFAULTS[type].imageSize];
  const crops = pre.do_center_crop === true || (pre.do_center_crop === undefined && pre.crop_size !== undefined);
  if (crops) {
    const crop = dims(pre.crop_size);
    if (!crop) return 'crop_size is missing or malformed';
    return { width: crop[0], height: crop[1], fit: 'cover' };
  }
  const size = pre.size === undefined ? fallback : dims(pre.size);
  if (!size) return 'size is malformed';
  // A shortest_edge without a crop keeps the aspect ratio: the nearest fixed input is cover + crop.
  const shortest = typeof (pre.size as { shortest_edge?: unknown } | undefined)?.shortest_edge === 'number';
  return { width: size[0], height: size[1], fit: type === 'siglip' && !shortest ? 'stretch' : 'cover' };
}

/** mean/std over bytes 0..255 equal to (x * rescale_factor - mean) / std with the processor's switches. */
function normalisation(type: HfModelType, pre: Record<string, unknown>): { mean: number[]; std: number[] } | string {
  const triple = (v: unknown): number[] | undefined => (Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number') ? v : typeof v === 'number' ? [v, v, v] : undefined);
  const rescale = pre.do_rescale === false ? 1 : typeof pre.rescale_factor === 'number' ? pre.rescale_factor : 1 / 255;
  let mean = [0, 0, 0];
  let std = [1, 1, 1];
  if (pre.do_normalize !== false) {
    const m = pre.image_mean === undefined ? DEFAULTS[type].mean : triple(pre.image_mean);
    const s = pre.image_std === undefined ? DEFAULTS[type].std : triple(pre.image_std);
    if (!m || !s || s.some((x) => x <= 0)) return 'image_mean / image_std must be 3 numbers (std > 0)';
    [mean, std] = [m, s];
  }
  // framesToPixelValues computes (x / 255 - mean') / std'; with k = 1 / (255 * rescale): mean' = mean * k, std' = std * k.
  const k = 1 / (255 * rescale);
  return Math.abs(k - 1) < 1e-9 ? { mean, std } : { mean: mean.map((m) => m * k), std: std.map((s) => s * k) };
}

/** A token's id: the tokenizer's added tokens first, then its vocabulary (object or Unigram's [piece, score] list). */
function tokenId(tokenizerJson: object, content: string): number | undefined {
  const t = tokenizerJson as { added_tokens?: { id: number; content: string }[]; model?: { vocab?: unknown } };
  const added = t.added_tokens?.find((a) => a.content === content);
  if (added) return added.id;
  const vocab = t.model?.vocab;
  if (Array.isArray(vocab)) {
    const i = vocab.findIndex((e) => Array.isArray(e) && e[0] === content);
    return i >= 0 ? i : undefined;
  }
  const id = (vocab as Record<string, unknown> | undefined)?.[content];
  return typeof id === 'number' ? id : undefined;
}

const tokenText = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof (v as { content?: unknown })?.content === 'string' ? (v as { content: string }).content : undefined);

function scoringOf(dir: string): SiglipScoring | undefined {
  const raw = readOptionalJson(dir, SCORING_FILE);
  if (Object.keys(raw).length === 0) return undefined;
  const { logit_scale: s, logit_bias: b } = raw;
  if (typeof s !== 'number' || typeof b !== 'number' || !Number.isFinite(s) || !Number.isFinite(b)) {
    throw invalid(dir, `${SCORING_FILE} needs numbers logit_scale (the log of the multiplier, as in the checkpoint) and logit_bias`);
  }
  return { scale: Math.exp(s), bias: b, from: SCORING_FILE };
}

export function loadHfEncoder(dir: string, type: HfModelType, config: Record<string, unknown>, variant?: string): EncoderSpec {
  const suffix = variantSuffix(variant);
  if (!/^[a-z0-9]*$/.test(suffix)) throw invalid(dir, `--variant "${variant}" is not a variant name (fp16, quantized, int8, uint8, q4, q4f16, bnb4)`);
  const pre = readOptionalJson(dir, 'preprocessor_config.json');
  const size = imageSize(type, pre, config);
  if (typeof size === 'string') throw invalid(dir, `preprocessor_config.json: ${size}`);
  const norm = normalisation(type, pre);
  if (typeof norm === 'string') throw invalid(dir, `preprocessor_config.json: ${norm}`);
  const { json } = tokenizerOf(dir, 'tokenizer.json');
  const tokCfg = readOptionalJson(dir, 'tokenizer_config.json');
  const text = (config.text_config ?? {}) as { max_position_embeddings?: unknown; pad_token_id?: unknown };
  const limits = [tokCfg.model_max_length, text.max_position_embeddings].filter((v): v is number => typeof v === 'number' && v > 0 && v < NO_LIMIT);
  const maxTokens = limits.length > 0 ? Math.min(...limits) : DEFAULTS[type].maxTokens;
  const graphs = resolveGraphs(dir, suffix);

  let padTo: EncoderSpec['padTo'];
  if (type === 'siglip') {
    const padText = tokenText(tokCfg.pad_token);
    const id = padText !== undefined ? tokenId(json, padText) : typeof text.pad_token_id === 'number' ? text.pad_token_id : undefined;
    if (id === undefined) {
      throw invalid(dir, padText !== undefined ? `tokenizer.json has no token "${padText}" (tokenizer_config.json pad_token)` : 'no pad token: tokenizer_config.json pad_token or config.json text_config.pad_token_id');
    }
    padTo = { length: maxTokens, id };
  }
  const scoring = type === 'siglip' ? scoringOf(dir) : undefined;
  const named = typeof config._name_or_path === 'string' && config._name_or_path ? basename(config._name_or_path) : basename(dir);
  return {
    dir,
    name: `${type}:${named}${suffix ? `@${suffix}` : ''}`,
    layout: type,
    graphs: graphs.graphs,
    ...(suffix ? { graphVariant: suffix } : {}),
    videoPath: graphs.video,
    textPath: graphs.text,
    tokenizerJson: json,
    imageWidth: size.width,
    imageHeight: size.height,
    mean: norm.mean,
    std: norm.std,
    fit: size.fit,
    framesPerClip: FRAMES_PER_CLIP,
    clipSeconds: CLIP_SECONDS,
    maxTokens,
    ...(padTo ? { padTo } : {}),
    ...(scoring ? { scoring } : {}),
  };
}
