import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SightlineError } from '../errors.js';
import { ModelConfigSchema, describeIssues, type ModelConfig } from './config.js';
import { hfModelType, loadHfFolder, type HfModelParts } from './hf-folder.js';
import { loadOodStats, type OodStats } from './ood.js';
import { TextTokenizer } from './tokenizer.js';

/**
 * A validated model folder as plain data (crosses into workers as is): Sightline's own format
 * (docs/model-format.md), or a Hugging Face ONNX folder of a family in hf-folder.ts (`hf` set).
 */
export interface ModelFolder {
  dir: string;
  config: ModelConfig;
  tokenizerJson: object;
  tokenizerConfig: object;
  visionPath: string;
  decoderPath: string;
  /** embed_tokens.bin of our format; a Hugging Face folder has an embed_tokens graph instead (`hf`). */
  embeddingsPath?: string;
  hf?: HfModelParts;
  /** Out-of-domain statistics (ood.json); absent: the model has no out-of-domain signal. */
  ood?: OodStats;
}

function invalid(dir: string, what: string, cause?: unknown): SightlineError {
  return new SightlineError('model_invalid', `model folder ${dir}: ${what}`, { cause });
}

function readJson(dir: string, file: string): unknown {
  const path = join(dir, file);
  if (!existsSync(path)) throw invalid(dir, `${file} is missing`);
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw invalid(dir, `${file} is not valid JSON (${(err as Error).message})`, err);
  }
}

function requireFile(dir: string, file: string, minBytes = 1): string {
  const path = join(dir, file);
  if (!existsSync(path)) throw invalid(dir, `${file} is missing`);
  if (statSync(path).size < minBytes) throw invalid(dir, `${file} is empty or truncated`);
  return path;
}

/** Validate a model folder: every file present, config.json well-formed, tokenizer usable. */
export function loadModelFolder(folder: string): ModelFolder {
  const dir = resolve(folder);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw invalid(folder, 'not found (pass --model DIR)');
  const modelType = hfModelType(dir);
  if (modelType !== undefined) return { dir, ...loadHfFolder(dir, modelType) };
  const parsed = ModelConfigSchema.safeParse(readJson(dir, 'config.json'));
  if (!parsed.success) throw invalid(dir, `config.json is malformed: ${describeIssues(parsed.error)}`);
  const config = parsed.data;
  if (config.rope.headDim !== config.decoder.headDim) throw invalid(dir, 'config.json: rope.headDim differs from decoder.headDim');

  const tokenizerJson = readJson(dir, 'tokenizer.json') as object;
  const tokenizerConfig = existsSync(join(dir, 'tokenizer_config.json')) ? (readJson(dir, 'tokenizer_config.json') as object) : {};
  let tokenizer: TextTokenizer;
  try {
    tokenizer = new TextTokenizer(tokenizerJson, tokenizerConfig);
  } catch (err) {
    throw invalid(dir, `tokenizer.json cannot be read (${(err as Error).message})`, err);
  }
  if (tokenizer.singleTokenId(config.chat.endOfTurn) === undefined) {
    throw invalid(dir, `tokenizer.json: end-of-turn "${config.chat.endOfTurn}" is not a single token`);
  }

  const { vocabSize, hiddenSize } = config.decoder;
  const embeddingsPath = requireFile(dir, config.embeddings.file);
  const expected = vocabSize * hiddenSize * 4;
  if (statSync(embeddingsPath).size !== expected) {
    throw invalid(dir, `${config.embeddings.file} has ${statSync(embeddingsPath).size} bytes, expected ${expected} (${vocabSize} x ${hiddenSize} float32)`);
  }
  return {
    dir,
    config,
    tokenizerJson,
    tokenizerConfig,
    visionPath: requireFile(dir, 'vision.onnx', 16),
    decoderPath: requireFile(dir, 'decoder.onnx', 16),
    embeddingsPath,
    ood: loadOodStats(dir, hiddenSize),
  };
}
