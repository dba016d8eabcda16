/**
 * The shipped retrieval model (docs/retrieval-model.md) through onnxruntime-node against the PyTorch
 * outputs of its training export (test/fixtures/references/NAME.json): video.onnx on the pattern clip,
 * text.onnx on the padded reference texts, and the tokenizer (tokenizers.js) against the ids the Python
 * tokenizer gave. The weights are stored as float16 (scripts/store-weights-fp16.ts), so the embeddings
 * differ from PyTorch's by rounding, inside the tolerance.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TextTokenizer } from '../../src/model/tokenizer.js';

const MODELS = process.env.SIGHTLINE_RETRIEVAL_MODELS ?? join(import.meta.dirname, '..', '..', 'models');
const REFERENCES = join(import.meta.dirname, '..', 'fixtures', 'references');
const TOLERANCE = 1e-4;

interface RetrievalConfig {
  format: string;
  promptCube: boolean;
  video: { imageWidth: number; imageHeight: number; framesPerClip: number; embedDim: number };
  text: { maxTokens: number; bos: string; eos: string; pad: string };
}
interface Reference {
  pixelShape: number[];
  pixelPattern: string;
  video_embeds: number[];
  texts: string[];
  input_ids: number[][];
  attention_mask: number[][];
  text_embeds: number[];
}

/** x[i] = ((i * 7919) % 255) / 127.5 - 1, the input export.py fed PyTorch. */
function patternPixels(n: number): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = ((i * 7919) % 255) / 127.5 - 1;
  return x;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function rowNorms(x: Float32Array, dim: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < x.length / dim; r++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += x[r * dim + j] ** 2;
    out.push(Math.sqrt(s));
  }
  return out;
}

const int64 = (rows: number[][]): ort.Tensor =>
  new ort.Tensor('int64', BigInt64Array.from(rows.flat().map((v) => BigInt(v))), [rows.length, rows[0].length]);

describe.each(['sightline-retrieval-v1'] as const)('%s vs PyTorch', (name) => {
  const dir = join(MODELS, name);
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as RetrievalConfig;
  const ref = JSON.parse(readFileSync(join(REFERENCES, `${name}.json`), 'utf8')) as Reference;
  let video: ort.InferenceSession;
  let text: ort.InferenceSession;

  beforeAll(async () => {
    video = await ort.InferenceSession.create(join(dir, 'video.onnx'), { intraOpNumThreads: 1 });
    text = await ort.InferenceSession.create(join(dir, 'text.onnx'), { intraOpNumThreads: 1 });
  });
  afterAll(async () => {
    await video?.release();
    await text?.release();
  });

  it('is a sightline-retrieval folder of files under 50 MB', () => {
    expect(config.format).toBe('sightline-retrieval');
    expect(config.promptCube).toBe(true);
    for (const f of ['video.onnx', 'text.onnx', 'tokenizer.json', 'config.json', 'README.md']) {
      expect(statSync(join(dir, f)).size, f).toBeLessThan(50_000_000);
    }
  });

  it('tokenizes the reference texts as the Python tokenizer did (bos + ids + eos, right-padded)', () => {
    const tok = new TextTokenizer(JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')));
    const [bos, eos, pad] = [config.text.bos, config.text.eos, config.text.pad].map((s) => tok.singleTokenId(s)!);
    const rows = ref.texts.map((t) => [bos, ...tok.encode(t).slice(0, config.text.maxTokens - 2), eos]);
    const width = Math.max(...rows.map((r) => r.length));
    expect(rows.map((r) => [...r, ...new Array(width - r.length).fill(pad)])).toEqual(ref.input_ids);
    expect(rows.map((r) => [...r.map(() => 1), ...new Array(width - r.length).fill(0)])).toEqual(ref.attention_mask);
  });

  it(`video tower matches on the ${'pattern'} clip (max abs diff <= ${TOLERANCE})`, async () => {
    expect(ref.pixelShape).toEqual([1, config.video.framesPerClip, 3, config.video.imageHeight, config.video.imageWidth]);
    const n = ref.pixelShape.reduce((a, b) => a * b, 1);
    const out = await video.run({ pixel_values: new ort.Tensor('float32', patternPixels(n), ref.pixelShape) });
    const got = out.video_embeds.data as Float32Array;
    expect(out.video_embeds.dims).toEqual([1, config.video.embedDim]);
    expect(maxAbsDiff(got, ref.video_embeds)).toBeLessThanOrEqual(TOLERANCE);
    expect(rowNorms(got, config.video.embedDim)[0]).toBeCloseTo(1, 4);
  });

  it(`text tower matches on the padded reference pair (max abs diff <= ${TOLERANCE})`, async () => {
    const out = await text.run({ input_ids: int64(ref.input_ids), attention_mask: int64(ref.attention_mask) });
    const got = out.text_embeds.data as Float32Array;
    expect(out.text_embeds.dims).toEqual([ref.input_ids.length, config.video.embedDim]);
    expect(maxAbsDiff(got, ref.text_embeds)).toBeLessThanOrEqual(TOLERANCE);
    for (const norm of rowNorms(got, config.video.embedDim)) expect(norm).toBeCloseTo(1, 4);
  });

  it('padding does not change a text embedding; batch and frame axes are dynamic', async () => {
    const dim = config.video.embedDim;
    const short = ref.attention_mask[1].reduce((a, b) => a + b, 0);
    const alone = await text.run({ input_ids: int64([ref.input_ids[1].slice(0, short)]), attention_mask: int64([ref.attention_mask[1].slice(0, short)]) });
    expect(maxAbsDiff(alone.text_embeds.data as Float32Array, ref.text_embeds.slice(dim, 2 * dim))).toBeLessThanOrEqual(TOLERANCE);

    // 2 clips x 4 frames: both clips are the first 4 frames of the pattern clip, so their embeddings agree.
    const [, , c, h, w] = ref.pixelShape;
    const clip4 = patternPixels(4 * c * h * w);
    const pair = new Float32Array(2 * clip4.length);
    pair.set(clip4, 0);
    pair.set(clip4, clip4.length);
    const out = await video.run({ pixel_values: new ort.Tensor('float32', pair, [2, 4, c, h, w]) });
    const got = out.video_embeds.data as Float32Array;
    expect(out.video_embeds.dims).toEqual([2, dim]);
    expect(maxAbsDiff(got.slice(0, dim), got.slice(dim))).toBeLessThanOrEqual(1e-5);
  });
});
