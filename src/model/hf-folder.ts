/**
 * Vision-language model folders in the Hugging Face / transformers.js ONNX layout (docs/byo-models.md), read
 * into the same ModelFolder the engine runs: the family from config.json's model_type, the graph files of
 * the chosen variant, and a ModelConfig derived from config.json, preprocessor_config.json, the tokenizer and
 * its chat template. Families: SmolVLM / SmolVLM2 / Idefics3 (Llama decoder, 1D RoPE) and Qwen2-VL / Qwen2.5-VL
 * (multimodal RoPE; what differs is in hf-qwen2vl.ts; Qwen2.5-VL's decoder and positions are Qwen2-VL's at one
 * temporal group a second, its windowed vision tower is inside its vision_encoder.onnx).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { SightlineError } from '../errors.js';
import { describeIssues, type ModelConfig } from './config.js';
import { chatLayoutFromTemplate } from './hf-chat.js';
import { blockRows, groupsFor, type QwenLayout } from './hf-qwen2vl.js';
import { TextTokenizer } from './tokenizer.js';

/** model_type values of families this runtime runs, and of known ones it does not yet. */
export const HF_FAMILIES = { smolvlm: 'smolvlm', idefics3: 'smolvlm', qwen2_vl: 'qwen2_vl', qwen2_5_vl: 'qwen2_vl' } as const;
export type HfFamily = (typeof HF_FAMILIES)[keyof typeof HF_FAMILIES];
const KNOWN_UNSUPPORTED = ['llava', 'llava_onevision', 'paligemma', 'florence2', 'moondream1', 'gemma3'];

/** File-name suffixes of the variants transformers.js publishes, in the order one is picked when none is asked for. */
export const VARIANTS = ['', '_fp16', '_int8', '_quantized', '_uint8', '_q4', '_q4f16', '_bnb4'] as const;
export const GRAPHS = { vision: 'vision_encoder', embed: 'embed_tokens', decoder: 'decoder_model_merged' } as const;

/** sightline.json beside a folder users bring: how Sightline runs it (all optional). */
export const ByoSettingsSchema = z.object({
  /** Graph variant: "fp32" (the plain files), "fp16", "int8", "quantized", "q4", ... */
  variant: z.string().optional(),
  framesPerSecond: z.number().positive().max(8).default(2),
  /** Qwen2-VL: the frame size the video is resized to (rounded down to multiples of patch_size * merge_size). */
  frameWidth: z.number().int().positive().optional(),
  frameHeight: z.number().int().positive().optional(),
  /** The user turn of each second: `header` before its frames ({start}, {end}), `instruction` after. */
  header: z.string().default('Time {start}-{end} s.'),
  instruction: z.string().default('What is new in this second? Answer in one short sentence, or with nothing if nothing changed.'),
  defaultPrompt: z.string().default('You comment on a live video, one second at a time.'),
  maxTokensPerSecond: z.number().int().positive().default(24),
  /** Silence (docs/byo-models.md): seconds after a line during which the model is not asked. */
  minIntervalSec: z.number().nonnegative().default(3),
  /** Silence: cosine distance of a second's mean visual token from the last spoken second's, below which it is not asked. */
  minVisualChange: z.number().min(0).max(2).default(0),
  temperature: z.number().nonnegative().default(0),
  repetitionPenalty: z.number().positive().default(1.1),
});
export type ByoSettings = z.infer<typeof ByoSettingsSchema>;

/** What a Hugging Face folder adds to ModelFolder: its family, files and the processor's image layout. */
export interface HfModelParts {
  family: HfFamily;
  modelType: string;
  /** The variant picked ("fp32" for the plain files) and the file of each graph (a graph without that variant uses its plain file). */
  variant: string;
  embedTokensPath: string;
  /**
   * Token ids around each frame's features: [<fake_token_around_image>, <global-img>] ... [<fake_token_around_image>]
   * (SmolVLM), or around a second's block: [<|vision_start|>] ... [<|vision_end|>] (Qwen2-VL).
   */
  frameBefore: number[];
  frameAfter: number[];
  /** Ids between two frames of one second. */
  betweenFrames: number[];
  /** Feature rows of one frame (the processor's image_seq_len; Qwen2-VL: of one temporal group). */
  imageSeqLen: number;
  /** Qwen2-VL's patches, frame grid and rotary sections. */
  qwen?: QwenLayout;
}

/** Qwen2-VL's default frame side in pixels (sightline.json frameWidth / frameHeight choose another). */
const DEFAULT_QWEN_SIDE = 336;

function invalid(dir: string, what: string): SightlineError {
  return new SightlineError('model_invalid', `model folder ${dir}: ${what}`);
}

function readJson(dir: string, file: string, required: boolean): Record<string, unknown> | undefined {
  const path = join(dir, file);
  if (!existsSync(path)) {
    if (required) throw invalid(dir, `${file} is missing`);
    return undefined;
  }
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw invalid(dir, `${file} is not valid JSON (${(err as Error).message})`);
  }
}

/** config.json's model_type when the folder is not one of ours (no `format`), else undefined. */
export function hfModelType(dir: string): string | undefined {
  const config = readJson(dir, 'config.json', false);
  if (!config || 'format' in config) return undefined;
  return typeof config.model_type === 'string' ? config.model_type : '(none)';
}

/** The graph files present for each variant, under onnx/ or at the top level. */
export function graphFiles(dir: string): { graph: string; variant: string; path: string }[] {
  const found: { graph: string; variant: string; path: string }[] = [];
  for (const sub of ['onnx', '.']) {
    for (const graph of Object.values(GRAPHS)) {
      for (const suffix of VARIANTS) {
        const path = join(dir, sub, `${graph}${suffix}.onnx`);
        if (existsSync(path) && !found.some((f) => f.graph === graph && f.variant === variantName(suffix))) {
          found.push({ graph, variant: variantName(suffix), path });
        }
      }
    }
  }
  return found;
}

function variantName(suffix: string): string {
  return suffix === '' ? 'fp32' : suffix.slice(1);
}

function pickFiles(dir: string, wanted: string | undefined): { variant: string; paths: Record<keyof typeof GRAPHS, string> } {
  const files = graphFiles(dir);
  const missing = Object.values(GRAPHS).filter((g) => !files.some((f) => f.graph === g));
  if (missing.length > 0) throw invalid(dir, `${missing.map((g) => `onnx/${g}.onnx`).join(', ')} missing (the transformers.js layout, docs/byo-models.md)`);
  const decoderVariants = files.filter((f) => f.graph === GRAPHS.decoder).map((f) => f.variant);
  const variant = wanted ?? (decoderVariants.includes('fp32') ? 'fp32' : decoderVariants[0]);
  if (!decoderVariants.includes(variant)) {
    throw invalid(dir, `variant "${variant}" has no onnx/${GRAPHS.decoder}_${variant}.onnx (found: ${decoderVariants.join(', ')})`);
  }
  const pick = (graph: string) => (files.find((f) => f.graph === graph && f.variant === variant) ?? files.find((f) => f.graph === graph && f.variant === 'fp32') ?? files.find((f) => f.graph === graph)!).path;
  return { variant, paths: { vision: pick(GRAPHS.vision), embed: pick(GRAPHS.embed), decoder: pick(GRAPHS.decoder) } };
}

function num(obj: Record<string, unknown> | undefined, key: string): number | undefined {
  const v = obj?.[key];
  return typeof v === 'number' ? v : undefined;
}

function tokenString(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string') return (v as { content: string }).content;
  return undefined;
}

export interface HfFolderData {
  config: ModelConfig;
  tokenizerJson: object;
  tokenizerConfig: object;
  visionPath: string;
  decoderPath: string;
  hf: HfModelParts;
}

/** Reads a SmolVLM- or Qwen2-VL-family folder; every problem is one model_invalid error naming the file. */
export function loadHfFolder(dir: string, modelType: string): HfFolderData {
  if (!(modelType in HF_FAMILIES)) {
    const known = KNOWN_UNSUPPORTED.includes(modelType) ? ' (a known family, not supported yet)' : '';
    throw invalid(dir, `config.json: model_type "${modelType}" is not a family Sightline runs${known}; supported: ${Object.keys(HF_FAMILIES).join(', ')} and Sightline's own format (docs/byo-models.md)`);
  }
  const family = HF_FAMILIES[modelType as keyof typeof HF_FAMILIES];
  const config = readJson(dir, 'config.json', true)!;
  // Qwen2-VL configs written by transformers 4.x keep the text sizes at the top level.
  const text = (config.text_config ?? (family === 'qwen2_vl' ? config : {})) as Record<string, unknown>;
  const textFile = config.text_config ? 'config.json text_config' : 'config.json';
  const vision = (config.vision_config ?? {}) as Record<string, unknown>;
  const pre = readJson(dir, 'preprocessor_config.json', true)!;
  const processor = readJson(dir, 'processor_config.json', false);
  const tokenizerJson = readJson(dir, 'tokenizer.json', true)!;
  const tokenizerConfig = readJson(dir, 'tokenizer_config.json', true)!;
  const sidecar = ByoSettingsSchema.safeParse(readJson(dir, 'sightline.json', false) ?? {});
  if (!sidecar.success) throw invalid(dir, `sightline.json is malformed: ${describeIssues(sidecar.error)}`);
  const settings = sidecar.data;
  const { variant, paths } = pickFiles(dir, process.env.SIGHTLINE_MODEL_VARIANT || settings.variant);

  const need = (obj: Record<string, unknown>, key: string, file: string): number => {
    const v = num(obj, key);
    if (v === undefined) throw invalid(dir, `${file}: ${key} is missing`);
    return v;
  };
  const hidden = need(text, 'hidden_size', textFile);
  const heads = need(text, 'num_attention_heads', textFile);
  const headDim = num(text, 'head_dim') ?? hidden / heads;
  const ropeParams = (text.rope_parameters ?? {}) as Record<string, unknown>;
  const ropeScaling = (text.rope_scaling ?? {}) as Record<string, unknown>;
  const ropeType = ropeScaling.rope_type ?? ropeScaling.type ?? ropeParams.rope_type ?? 'default';
  const mrope = (ropeScaling.mrope_section ?? ropeParams.mrope_section) as number[] | undefined;
  if (family === 'qwen2_vl') {
    // transformers reads rope type "mrope" as the default rotation with mrope_section
    if (ropeType !== 'default' && ropeType !== 'mrope') throw invalid(dir, `config.json: rope type "${String(ropeType)}" is not supported (only Qwen2-VL's multimodal RoPE)`);
    if (!Array.isArray(mrope) || mrope.length !== 3 || mrope.reduce((a, b) => a + b, 0) !== headDim / 2) {
      throw invalid(dir, `config.json: mrope_section ${JSON.stringify(mrope)} must be 3 numbers summing to head_dim / 2 (${headDim / 2})`);
    }
  } else if (ropeType !== 'default') throw invalid(dir, `config.json: rope type "${String(ropeType)}" is not supported (only the default 1D RoPE)`);
  const theta = num(text, 'rope_theta') ?? num(ropeParams, 'rope_theta') ?? 10000;

  const tokenizer = new TextTokenizer(tokenizerJson, tokenizerConfig);
  const single = (t: string, file: string): number => {
    const id = tokenizer.singleTokenId(t);
    if (id === undefined) throw invalid(dir, `${file}: "${t}" is not one token`);
    return id;
  };
  const rescale = num(pre, 'rescale_factor') ?? 1 / 255;
  if (Math.abs(rescale * 255 - 1) > 1e-6) throw invalid(dir, `preprocessor_config.json: rescale_factor ${rescale} (only 1/255 is supported)`);
  const mean = (pre.image_mean as number[] | undefined) ?? [0.5, 0.5, 0.5];
  const std = (pre.image_std as number[] | undefined) ?? [0.5, 0.5, 0.5];
  const frames = family === 'qwen2_vl' ? qwenFrames() : smolFrames();

  /** SmolVLM: square frames of max_image_size, each its own image between the processor's tokens. */
  function smolFrames() {
    const imageSize = num(pre.max_image_size as Record<string, unknown>, 'longest_edge') ?? need(vision, 'image_size', 'config.json vision_config');
    const patch = need(vision, 'patch_size', 'config.json vision_config');
    const scale = num(config, 'scale_factor') ?? 1;
    const imageSeqLen = num(processor, 'image_seq_len') ?? Math.round((imageSize / patch) ** 2 / scale ** 2);
    const around = single('<fake_token_around_image>', 'tokenizer.json');
    single('<image>', 'tokenizer.json');
    const [before, after] = [[around, single('<global-img>', 'tokenizer.json')], [around]];
    return { width: imageSize, height: imageSize, placeholder: '<image>', video: false, before, after, imageSeqLen, tokensPerFrame: imageSeqLen + before.length + after.length, qwen: undefined };
  }

  /** Qwen2-VL: a fixed frame size of whole merged patches; a second's frames are one video block. */
  function qwenFrames() {
    const patch = num(pre, 'patch_size') ?? need(vision, 'patch_size', 'config.json vision_config');
    const merge = num(pre, 'merge_size') ?? num(vision, 'spatial_merge_size') ?? 2;
    const temporal = num(pre, 'temporal_patch_size') ?? num(vision, 'temporal_patch_size') ?? 2;
    const factor = patch * merge;
    const size = (pre.size ?? {}) as Record<string, unknown>;
    const minPixels = num(pre, 'min_pixels') ?? num(size, 'shortest_edge') ?? factor * factor;
    const maxPixels = num(pre, 'max_pixels') ?? num(size, 'longest_edge') ?? DEFAULT_QWEN_SIDE ** 2;
    // Square by default, at most DEFAULT_QWEN_SIDE and within the processor's pixel bounds; sightline.json may choose.
    const side = Math.max(Math.ceil(Math.sqrt(minPixels) / factor), Math.floor(Math.sqrt(Math.min(maxPixels, DEFAULT_QWEN_SIDE ** 2)) / factor), 1) * factor;
    const fit = (v: number | undefined) => (v === undefined ? side : Math.max(1, Math.floor(v / factor)) * factor);
    const [width, height] = [fit(settings.frameWidth), fit(settings.frameHeight)];
    const layout: QwenLayout = { patch, merge, temporal, gridH: height / patch, gridW: width / patch, mropeSection: mrope as [number, number, number] };
    single('<|video_pad|>', 'tokenizer.json');
    const perSecond = Math.ceil(settings.framesPerSecond);
    // Qwen2.5-VL spaces a video's later temporal groups by tokens_per_second x their seconds, and its
    // implementations round that differently; one group a second (2 frames) has no such spacing.
    if (modelType === 'qwen2_5_vl' && perSecond > temporal) {
      throw invalid(dir, `sightline.json: framesPerSecond ${settings.framesPerSecond} makes ${groupsFor(perSecond, layout)} temporal groups a second; Sightline runs Qwen2.5-VL at one group a second (at most ${temporal} frames)`);
    }
    return {
      width,
      height,
      placeholder: '<|vision_start|><|video_pad|><|vision_end|>',
      video: true,
      before: [single('<|vision_start|>', 'tokenizer.json')],
      after: [single('<|vision_end|>', 'tokenizer.json')],
      imageSeqLen: (layout.gridH / merge) * (layout.gridW / merge),
      // one block a second, spread over its frames: the engine sizes the cache by frames x tokensPerFrame
      tokensPerFrame: Math.ceil(blockRows(perSecond, layout) / perSecond),
      qwen: layout,
    };
  }

  const template = typeof tokenizerConfig.chat_template === 'string' ? tokenizerConfig.chat_template : (readJson(dir, 'chat_template.json', false)?.chat_template as string | undefined);
  if (!template) throw invalid(dir, 'tokenizer_config.json has no chat_template (nor chat_template.json)');
  const specialTokens: Record<string, string> = {};
  for (const key of ['bos_token', 'eos_token', 'pad_token', 'unk_token']) {
    const t = tokenString(tokenizerConfig[key]);
    if (t !== undefined) specialTokens[key] = t;
  }
  let chat;
  try {
    chat = chatLayoutFromTemplate({ template, imagePlaceholder: frames.placeholder, video: frames.video, header: settings.header, instruction: settings.instruction, specialTokens });
  } catch (err) {
    throw invalid(dir, `tokenizer_config.json: chat_template: ${(err as Error).message}`);
  }
  // The end of turn is the first token the template writes after an answer; the rest (a newline) opens the next round.
  const endIds = tokenizer.encode(chat.endOfTurn);
  if (endIds.length === 0) throw invalid(dir, 'tokenizer_config.json: chat_template writes nothing after an answer (no end of turn)');
  const endOfTurn = tokenizer.decode([endIds[0]]);
  const gap = chat.endOfTurn.slice(endOfTurn.length);
  const system = gap && chat.system.endsWith(gap) ? chat.system.slice(0, -gap.length) : chat.system;

  const hf: HfModelParts = {
    family,
    modelType,
    variant,
    embedTokensPath: paths.embed,
    frameBefore: frames.before,
    frameAfter: frames.after,
    betweenFrames: tokenizer.encode(chat.betweenFrames),
    imageSeqLen: frames.imageSeqLen,
    ...(frames.qwen ? { qwen: frames.qwen } : {}),
  };
  const derived: ModelConfig = {
    // Not a file of ours: the runtime's view of the folder, in the shape the engine takes.
    format: 'sightline-streaming-vlm',
    formatVersion: 1, // one stream a call: cross-stream batching of HF decoders is not built yet
    name: String(config._name_or_path || '') || dir.split('/').filter(Boolean).pop()!,
    decoder: {
      hiddenSize: hidden,
      numLayers: need(text, 'num_hidden_layers', textFile),
      numHeads: heads,
      numKvHeads: num(text, 'num_key_value_heads') ?? heads,
      headDim,
      intermediateSize: need(text, 'intermediate_size', textFile),
      vocabSize: need(text, 'vocab_size', textFile),
      rmsNormEps: num(text, 'rms_norm_eps') ?? 1e-5,
      maxPositions: num(text, 'max_position_embeddings') ?? 8192,
    },
    rope: { theta, headDim, style: 'half', angleDtype: 'float64', keysCachedAfterRope: true },
    kv: { layout: 'seq-major', dtype: 'float32' },
    embeddings: { file: paths.embed, dtype: 'float32' },
    vision: { imageWidth: frames.width, imageHeight: frames.height, framesPerSecond: settings.framesPerSecond, tokensPerFrame: frames.tokensPerFrame, mean, std },
    chat: {
      system,
      defaultPrompt: settings.defaultPrompt,
      roundHeader: gap + chat.roundHeader,
      assistant: chat.assistant,
      silence: '',
      endOfTurn,
    },
    generation: {
      maxTokensPerSecond: settings.maxTokensPerSecond,
      temperature: settings.temperature,
      topP: 1,
      repetitionPenalty: settings.repetitionPenalty,
      minIntervalSec: settings.minIntervalSec,
      minVisualChange: settings.minVisualChange,
    },
    runtime: { executionProvider: 'cpu' },
  };
  return { config: derived, tokenizerJson, tokenizerConfig, visionPath: paths.vision, decoderPath: paths.decoder, hf };
}
