/**
 * A retrieval model folder (format "sightline-retrieval", docs/retrieval-model.md) through onnxruntime-node
 * in the calling thread: captions -> text_embeds, clips of RGB24 frames -> video_embeds, both [B, dim]
 * and L2-normalised. Uses the runtime's tokenizer (src/model/tokenizer.ts) and preprocessing
 * (framesToPixelValues in src/model/preprocess.ts), so the evaluation measures what users run.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { z } from 'zod';
import { SightlineError } from '../errors.js';
import { describeIssues } from '../model/config.js';
import { framesToPixelValues } from '../model/preprocess.js';
import { TextTokenizer } from '../model/tokenizer.js';

const positiveInt = z.number().int().positive();

export const RetrievalConfigSchema = z.object({
  format: z.literal('sightline-retrieval'),
  formatVersion: z.literal(1),
  name: z.string().min(1),
  variant: z.string().min(1).optional(),
  video: z.object({
    imageWidth: positiveInt,
    imageHeight: positiveInt,
    framesPerClip: positiveInt,
    mean: z.array(z.number()).length(3),
    std: z.array(z.number().positive()).length(3),
    embedDim: positiveInt,
  }),
  clipSeconds: z.number().positive(),
  text: z.object({ maxTokens: positiveInt.min(3), bos: z.string().min(1), eos: z.string().min(1), pad: z.string().min(1) }),
  files: z
    .object({ video: z.string().min(1), text: z.string().min(1), tokenizer: z.string().min(1) })
    .default({ video: 'video.onnx', text: 'text.onnx', tokenizer: 'tokenizer.json' }),
});
export type RetrievalConfig = z.infer<typeof RetrievalConfigSchema>;

function invalid(dir: string, what: string, cause?: unknown): SightlineError {
  return new SightlineError('model_invalid', `retrieval model folder ${dir}: ${what}`, { cause });
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

export interface RetrievalEncoderOptions {
  /** onnxruntime intra-op threads per session (default 2). */
  threads?: number;
  /** Captions per text.onnx call (default 64). */
  textBatch?: number;
}

export class RetrievalEncoder {
  private constructor(
    readonly dir: string,
    readonly config: RetrievalConfig,
    private readonly tokenizer: TextTokenizer,
    private readonly specialIds: { bos: number; eos: number; pad: number },
    private readonly video: ort.InferenceSession,
    private readonly text: ort.InferenceSession,
    private readonly textBatch: number,
  ) {}

  /** Validates the folder (one clear error naming it and the cause) and opens both sessions. */
  static async load(folder: string, options: RetrievalEncoderOptions = {}): Promise<RetrievalEncoder> {
    const dir = resolve(folder);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw invalid(folder, 'not found');
    const parsed = RetrievalConfigSchema.safeParse(readJson(dir, 'config.json'));
    if (!parsed.success) throw invalid(dir, `config.json is not a sightline-retrieval config: ${describeIssues(parsed.error)}`);
    const config = parsed.data;
    let tokenizer: TextTokenizer;
    try {
      tokenizer = new TextTokenizer(readJson(dir, config.files.tokenizer) as object);
    } catch (err) {
      if (err instanceof SightlineError) throw err;
      throw invalid(dir, `${config.files.tokenizer} cannot be read (${(err as Error).message})`, err);
    }
    const ids = { bos: tokenizer.singleTokenId(config.text.bos), eos: tokenizer.singleTokenId(config.text.eos), pad: tokenizer.singleTokenId(config.text.pad) };
    for (const [k, v] of Object.entries(ids)) if (v === undefined) throw invalid(dir, `tokenizer: ${k} token "${config.text[k as 'bos']}" is not a single token`);
    const threads = options.threads ?? 2;
    const sessionOptions: ort.InferenceSession.SessionOptions = { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' };
    const open = async (file: string): Promise<ort.InferenceSession> => {
      const path = join(dir, file);
      if (!existsSync(path)) throw invalid(dir, `${file} is missing`);
      try {
        return await ort.InferenceSession.create(path, sessionOptions);
      } catch (err) {
        throw invalid(dir, `${file} cannot be loaded (${(err as Error).message.split('\n')[0]})`, err);
      }
    };
    const video = await open(config.files.video);
    const text = await open(config.files.text).catch(async (err: unknown) => {
      await video.release();
      throw err;
    });
    return new RetrievalEncoder(dir, config, tokenizer, ids as { bos: number; eos: number; pad: number }, video, text, options.textBatch ?? 64);
  }

  get embedDim(): number {
    return this.config.video.embedDim;
  }

  /** bos + ids (cut to maxTokens - 2) + eos: the training tokenisation (train/retrieval/text.py). */
  tokenize(caption: string): number[] {
    return [this.specialIds.bos, ...this.tokenizer.encode(caption).slice(0, this.config.text.maxTokens - 2), this.specialIds.eos];
  }

  /** Captions -> [n x embedDim], batched and right-padded (padding does not change an embedding). */
  async encodeTexts(captions: readonly string[]): Promise<Float32Array> {
    const dim = this.embedDim;
    const out = new Float32Array(captions.length * dim);
    for (let at = 0; at < captions.length; at += this.textBatch) {
      const rows = captions.slice(at, at + this.textBatch).map((c) => this.tokenize(c));
      const width = Math.max(...rows.map((r) => r.length));
      const ids = new BigInt64Array(rows.length * width).fill(BigInt(this.specialIds.pad));
      const mask = new BigInt64Array(rows.length * width);
      rows.forEach((r, i) => r.forEach((id, j) => ((ids[i * width + j] = BigInt(id)), (mask[i * width + j] = 1n))));
      const res = await this.text.run({
        input_ids: new ort.Tensor('int64', ids, [rows.length, width]),
        attention_mask: new ort.Tensor('int64', mask, [rows.length, width]),
      });
      out.set(res.text_embeds.data as Float32Array, at * dim);
    }
    return out;
  }

  /**
   * `clips` clips of `framesPerClip` packed RGB24 frames each (imageWidth x imageHeight) -> [clips x embedDim].
   */
  async encodeClips(rgb: Uint8Array, clips: number): Promise<Float32Array> {
    const { imageWidth: w, imageHeight: h, framesPerClip: f } = this.config.video;
    if (rgb.length !== clips * f * w * h * 3) throw new SightlineError('bad_input', `encodeClips: expected ${clips} x ${f} frames of ${w}x${h} RGB24, got ${rgb.length} bytes`);
    const pixels = framesToPixelValues(rgb, clips * f, w, h, this.config.video);
    const res = await this.video.run({ pixel_values: new ort.Tensor('float32', pixels, [clips, f, 3, h, w]) });
    return res.video_embeds.data as Float32Array;
  }

  async release(): Promise<void> {
    await this.video.release();
    await this.text.release();
  }
}
