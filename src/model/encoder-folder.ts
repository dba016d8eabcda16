/**
 * Retrieval encoder folders, read and validated into plain data (crosses into the encoder worker as is);
 * the folder's `layout` picks the encoder implementation (encoder.ts).
 * Two layouts are understood:
 *
 *   sightline-retrieval   config.json {format: "sightline-retrieval"}, video.onnx (pixel_values
 *                         [B, F, 3, H, W] -> video_embeds [B, D]), text.onnx (input_ids, attention_mask
 *                         -> text_embeds), tokenizer.json. docs/retrieval-model.md.
 *   clip                  the common CLIP ONNX export: vision_model.onnx (pixel_values [N, 3, H, W] ->
 *                         image_embeds), text_model.onnx (input_ids [+ attention_mask] -> text_embeds),
 *                         tokenizer.json, optional preprocessor_config.json / config.json. Used as a
 *                         mean-pooling video encoder: mean of the L2-normed frame embeddings, L2-normed.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { packagePath } from '../package-root.js';
import { z } from 'zod';
import { SightlineError } from '../errors.js';
import { TextTokenizer } from './tokenizer.js';

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

/** Everything the runtime needs to run one encoder folder. */
export interface EncoderSpec {
  dir: string;
  /** Stored with every row; vectors of different models never meet. */
  name: string;
  /** sightline-retrieval config's `variant` ("prompt-switch", "mean-pooling"), for reports. */
  variant?: string;
  layout: 'sightline-retrieval' | 'clip';
  videoPath: string;
  textPath: string;
  tokenizerJson: object;
  imageWidth: number;
  imageHeight: number;
  mean: number[];
  std: number[];
  framesPerClip: number;
  /** Default clip length of the index (the length the model was trained on). */
  clipSeconds: number;
  maxTokens: number;
  /** Added around the tokenizer's ids when set (sightline-retrieval); CLIP's tokenizer adds its own. */
  special?: { bos: string; eos: string; pad: string };
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

/** The few fields of a HF preprocessor_config.json we read; all optional. */
const ClipPreprocessor = z.object({
  crop_size: z.union([z.number(), z.object({ height: z.number(), width: z.number() })]).optional(),
  size: z.union([z.number(), z.object({ shortest_edge: z.number() }), z.object({ height: z.number(), width: z.number() })]).optional(),
  image_mean: triple.optional(),
  image_std: triple.optional(),
});

/** How errors name the folder: "encoder folder X" (search) or "retrieval model folder X" (eval). */
type Invalid = (dir: string, what: string, cause?: unknown) => SightlineError;

const invalidAs =
  (label: string): Invalid =>
  (dir, what, cause) =>
    new SightlineError('model_invalid', `${label} ${dir}: ${what}`, { cause });

const invalid = invalidAs('encoder folder');

function readJson(dir: string, file: string, bad: Invalid = invalid): unknown {
  try {
    return JSON.parse(readFileSync(join(dir, file), 'utf8'));
  } catch (err) {
    throw bad(dir, `${file} is missing or not valid JSON (${(err as Error).message.split('\n')[0]})`, err);
  }
}

function requireFile(dir: string, file: string, bad: Invalid = invalid): string {
  const path = join(dir, file);
  if (!existsSync(path) || statSync(path).size < 16) throw bad(dir, `${file} is missing or empty`);
  return path;
}

function tokenizerOf(dir: string, file: string, bad: Invalid = invalid): { json: object; tokenizer: TextTokenizer } {
  const json = readJson(dir, file, bad) as object;
  try {
    return { json, tokenizer: new TextTokenizer(json) };
  } catch (err) {
    throw bad(dir, `${file} cannot be read by tokenizers.js (${(err as Error).message})`, err);
  }
}

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
    framesPerClip: c.video.framesPerClip,
    clipSeconds: c.clipSeconds,
    maxTokens: c.text.maxTokens,
    special: { bos: c.text.bos, eos: c.text.eos, pad: c.text.pad },
  };
}

function clipImageSize(p: z.infer<typeof ClipPreprocessor>, config: Record<string, unknown>): [number, number] {
  const crop = p.crop_size;
  if (typeof crop === 'number') return [crop, crop];
  if (crop) return [crop.width, crop.height];
  const vision = config.vision_config as { image_size?: number } | undefined;
  const size = vision?.image_size ?? (typeof p.size === 'number' ? p.size : undefined);
  return [size ?? CLIP_DEFAULTS.imageSize, size ?? CLIP_DEFAULTS.imageSize];
}

function loadClip(dir: string): EncoderSpec {
  const pre = existsSync(join(dir, 'preprocessor_config.json')) ? readJson(dir, 'preprocessor_config.json') : {};
  const parsedPre = ClipPreprocessor.safeParse(pre);
  if (!parsedPre.success) throw invalid(dir, `preprocessor_config.json is malformed: ${parsedPre.error.issues[0].message}`);
  const config = (existsSync(join(dir, 'config.json')) ? readJson(dir, 'config.json') : {}) as Record<string, unknown>;
  const [imageWidth, imageHeight] = clipImageSize(parsedPre.data, config);
  const textConfig = config.text_config as { max_position_embeddings?: number } | undefined;
  const { json } = tokenizerOf(dir, 'tokenizer.json');
  const name = typeof config._name_or_path === 'string' && config._name_or_path ? basename(config._name_or_path) : basename(dir);
  return {
    dir,
    name: `clip:${name}`,
    layout: 'clip',
    videoPath: requireFile(dir, 'vision_model.onnx'),
    textPath: requireFile(dir, 'text_model.onnx'),
    tokenizerJson: json,
    imageWidth,
    imageHeight,
    mean: parsedPre.data.image_mean ?? [...CLIP_DEFAULTS.mean],
    std: parsedPre.data.image_std ?? [...CLIP_DEFAULTS.std],
    framesPerClip: CLIP_DEFAULTS.framesPerClip,
    clipSeconds: CLIP_DEFAULTS.clipSeconds,
    maxTokens: textConfig?.max_position_embeddings ?? CLIP_DEFAULTS.maxTokens,
  };
}

/** Reads an encoder folder of either layout; one clear `model_invalid` error naming the folder otherwise. */
export function loadEncoderFolder(folder: string): EncoderSpec {
  const dir = resolve(folder);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw invalid(folder, 'not found (pass --model DIR)');
  if (existsSync(join(dir, 'vision_model.onnx'))) return loadClip(dir);
  if (!existsSync(join(dir, 'config.json'))) {
    throw invalid(dir, 'neither a sightline-retrieval folder (config.json) nor a CLIP ONNX folder (vision_model.onnx, text_model.onnx, tokenizer.json)');
  }
  const raw = readJson(dir, 'config.json') as { format?: unknown };
  if (raw.format !== 'sightline-retrieval') {
    throw invalid(dir, `config.json format is ${JSON.stringify(raw.format)}, expected "sightline-retrieval" (or a CLIP folder with vision_model.onnx)`);
  }
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
