/**
 * Retrieval encoder folders, read and validated into plain data (crosses into the encoder worker as is);
 * the folder's `layout` picks the encoder implementation (encoder.ts).
 * Three layouts are understood:
 *
 *   sightline-retrieval   config.json {format: "sightline-retrieval"}, video.onnx (pixel_values
 *                         [B, F, 3, H, W] -> video_embeds [B, D]), text.onnx (input_ids, attention_mask
 *                         -> text_embeds), tokenizer.json. docs/retrieval-model.md.
 *   clip, siglip          Hugging Face ONNX exports (transformers.js / Xenova layout; hf-encoder-folder.ts):
 *                         config.json model_type "clip" or "siglip", vision_model.onnx + text_model.onnx or one
 *                         model.onnx, under onnx/ or at the top level, with variants (_fp16, _quantized, ...).
 *                         A folder with these graphs and no model_type is read as CLIP. Used as mean-pooling
 *                         video encoders: mean of the L2-normed frame embeddings, L2-normed. docs/byo-models.md.
 */
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { packagePath } from '../package-root.js';
import { z } from 'zod';
import { invalid, invalidAs, readJson, requireFile, tokenizerOf, type Invalid } from './folder-files.js';
import { HF_MODEL_TYPES, hasHfGraphs, loadHfEncoder, type HfModelType } from './hf-encoder-folder.js';

/** The shipped Prompt-Switch model; $SIGHTLINE_RETRIEVAL_MODEL overrides it. */
export const SHIPPED_RETRIEVAL_DIR = packagePath('models', 'sightline-retrieval-v1');

export function defaultRetrievalDir(): string {
  return process.env.SIGHTLINE_RETRIEVAL_MODEL ?? SHIPPED_RETRIEVAL_DIR;
}

/** CLIP's defaults when a folder has no preprocessor_config.json (OpenAI CLIP ViT-B/32). */
export const CLIP_DEFAULTS = {
  imageSize: 224,
  mean: [0.48145466, 0.4578275, 0.40821073],
  std: [0.26862954, 0.26130258, 0.27577711],
  maxTokens: 77,
  framesPerClip: 8,
  clipSeconds: 10,
} as const;

/**
 * SigLIP's similarity as a probability: sigmoid(scale * cos + bias), scale = exp(logit_scale). The trained
 * scalars, not config.json's init values (logit_scale_init_value); known from sightline-scoring.json or
 * read off a combined model.onnx's logits (encoders/hf-dual.ts).
 */
export interface SiglipScoring {
  scale: number;
  bias: number;
  /** Where they came from: "sightline-scoring.json" or "model.onnx logits". */
  from: string;
}

/** Everything the runtime needs to run one encoder folder. */
export interface EncoderSpec {
  dir: string;
  /** Stored with every row; vectors of different models never meet. */
  name: string;
  /** sightline-retrieval config's `variant` ("prompt-switch", "mean-pooling"), for reports. */
  variant?: string;
  layout: 'sightline-retrieval' | HfModelType;
  /** HF layouts: separate towers, or one model.onnx holding both (videoPath = textPath then). */
  graphs?: 'towers' | 'combined';
  /** HF layouts: the graph files' variant suffix (fp16, quantized, q4, ...); absent: the plain files. */
  graphVariant?: string;
  videoPath: string;
  textPath: string;
  tokenizerJson: object;
  imageWidth: number;
  imageHeight: number;
  mean: number[];
  std: number[];
  /**
   * How frames are fitted to imageWidth x imageHeight by the ingest: 'cover' scales to cover and centre-crops
   * (ours; CLIP's resize + centre crop), 'stretch' resizes to exactly that size (SigLIP's processor).
   */
  fit: 'cover' | 'stretch';
  framesPerClip: number;
  /** Default clip length of the index (the length the model was trained on). */
  clipSeconds: number;
  maxTokens: number;
  /** Added around the tokenizer's ids when set (sightline-retrieval); CLIP's tokenizer adds its own. */
  special?: { bos: string; eos: string; pad: string };
  /** Texts right-padded to exactly `length` ids with `id` (SigLIP was trained on max_length padding). */
  padTo?: { length: number; id: number };
  /** SigLIP's logit scale and bias when the folder states them (sightline-scoring.json). */
  scoring?: SiglipScoring;
}

/** How a folder is read: `variant` picks HF graph files (`--variant`). */
export interface EncoderFolderOptions {
  variant?: string;
}

const triple = z.array(z.number()).length(3);

const SightlineRetrievalConfig = z.object({
  format: z.literal('sightline-retrieval'),
  formatVersion: z.literal(1),
  name: z.string().min(1),
  variant: z.string().min(1).optional(),
  video: z.object({
    imageWidth: z.number().int().positive(),
    imageHeight: z.number().int().positive(),
    framesPerClip: z.number().int().min(1).max(32),
    mean: triple,
    std: triple,
  }),
  clipSeconds: z.number().positive().default(10),
  text: z.object({ maxTokens: z.number().int().min(3), bos: z.string(), eos: z.string(), pad: z.string() }),
  files: z.object({ video: z.string(), text: z.string(), tokenizer: z.string() }).default({ video: 'video.onnx', text: 'text.onnx', tokenizer: 'tokenizer.json' }),
});

function loadSightline(dir: string, raw: unknown, bad: Invalid = invalid): EncoderSpec {
  const parsed = SightlineRetrievalConfig.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw bad(dir, `config.json is malformed: ${issue.path.join('.') || 'root'}: ${issue.message}`);
  }
  const c = parsed.data;
  const { json, tokenizer } = tokenizerOf(dir, c.files.tokenizer, bad);
  for (const token of [c.text.bos, c.text.eos, c.text.pad]) {
    if (tokenizer.singleTokenId(token) === undefined) throw bad(dir, `${c.files.tokenizer}: special token "${token}" is not a single token`);
  }
  return {
    dir,
    name: c.name,
    variant: c.variant,
    layout: 'sightline-retrieval',
    videoPath: requireFile(dir, c.files.video, bad),
    textPath: requireFile(dir, c.files.text, bad),
    tokenizerJson: json,
    imageWidth: c.video.imageWidth,
    imageHeight: c.video.imageHeight,
    mean: c.video.mean,
    std: c.video.std,
    fit: 'cover',
    framesPerClip: c.video.framesPerClip,
    clipSeconds: c.clipSeconds,
    maxTokens: c.text.maxTokens,
    special: { bos: c.text.bos, eos: c.text.eos, pad: c.text.pad },
  };
}

/**
 * Reads an encoder folder of any layout; one clear `model_invalid` error naming the folder (and the file)
 * otherwise. config.json's `format` marks our folders, its `model_type` the HF ones.
 */
export function loadEncoderFolder(folder: string, options: EncoderFolderOptions = {}): EncoderSpec {
  const dir = resolve(folder);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw invalid(folder, 'not found (pass --model DIR)');
  const raw = existsSync(join(dir, 'config.json')) ? (readJson(dir, 'config.json') as Record<string, unknown>) : undefined;
  const modelType = raw?.model_type;
  if (raw?.format === undefined && typeof modelType === 'string') {
    if (!(HF_MODEL_TYPES as readonly string[]).includes(modelType)) {
      throw invalid(dir, `config.json model_type is "${modelType}"; Sightline runs retrieval encoders of type ${HF_MODEL_TYPES.join(' or ')} (or a sightline-retrieval folder)`);
    }
    return loadHfEncoder(dir, modelType as HfModelType, raw ?? {}, options.variant);
  }
  if (raw?.format === undefined && hasHfGraphs(dir)) return loadHfEncoder(dir, 'clip', raw ?? {}, options.variant);
  if (!raw) {
    throw invalid(
      dir,
      'neither a sightline-retrieval folder (config.json) nor a CLIP/SigLIP ONNX folder (vision_model.onnx + text_model.onnx or model.onnx, under onnx/ or here, with tokenizer.json)',
    );
  }
  if (raw.format !== 'sightline-retrieval') {
    throw invalid(dir, `config.json format is ${JSON.stringify(raw.format)}, expected "sightline-retrieval" (or a CLIP/SigLIP ONNX folder: config.json model_type "clip" or "siglip")`);
  }
  if (options.variant) throw invalid(dir, `--variant ${options.variant} applies to CLIP/SigLIP ONNX folders; a sightline-retrieval folder has one set of graphs`);
  return loadSightline(dir, raw);
}

/**
 * A sightline-retrieval folder only (what `sightline eval retrieval` compares), errors naming it as a
 * "retrieval model folder": the same reading as loadEncoderFolder, so eval measures what search runs.
 */
export function loadRetrievalModelFolder(folder: string): EncoderSpec {
  const bad = invalidAs('retrieval model folder');
  const dir = resolve(folder);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw bad(folder, 'not found');
  const raw = readJson(dir, 'config.json', bad) as { format?: unknown };
  if (raw.format !== 'sightline-retrieval') throw bad(dir, `config.json is not a sightline-retrieval config: format is ${JSON.stringify(raw.format)}`);
  return loadSightline(dir, raw, bad);
}
