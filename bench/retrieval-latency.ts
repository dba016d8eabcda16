/**
 * CPU latency of the retrieval towers (docs/retrieval-model.md) through onnxruntime-node:
 *   - video tower per clip: one clip of framesPerClip frames (RGB24 -> pixel_values, then video.onnx);
 *   - text tower per query: tokenize + video-free text.onnx on one query.
 * p50/p99 over --runs calls after --warmup calls, for each model folder and thread count.
 *
 *   npx tsx bench/retrieval-latency.ts [--models DIR] [--runs 200] [--warmup 10] [--threads 1,2] [--json FILE]
 *
 * Runs in this thread (no worker) so only inference cost is measured.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { framesToPixelValues } from '../src/model/preprocess.js';
import { TextTokenizer } from '../src/model/tokenizer.js';
import { FOLD_STORED_WEIGHTS } from '../src/model/onnx-session.js';

const { values } = parseArgs({
  options: {
    models: { type: 'string', default: join(import.meta.dirname, '..', 'models') },
    names: { type: 'string', default: 'sightline-retrieval-v1' },
    runs: { type: 'string', default: '200' },
    warmup: { type: 'string', default: '10' },
    threads: { type: 'string', default: '1,2' },
    json: { type: 'string' },
  },
});
const runs = Number(values.runs);
const warmup = Number(values.warmup);

const QUERIES = [
  'Red vs Blue, Red 1-0 Blue, 12th minute of the first half: Red number 9 shoots, then the Blue keeper saves; play at the right end, Red in possession.',
  'a goal for yellow',
  'corner to Black, play at the left end',
  'White vs Orange, White 0-0 Orange, 3rd minute of the first half: 3 passes, no clear chance; play in midfield, Orange in possession.',
];

const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];

async function time(fn: () => Promise<unknown>): Promise<{ p50: number; p99: number; mean: number }> {
  for (let i = 0; i < warmup; i++) await fn();
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return { p50: pct(ms, 0.5), p99: pct(ms, 0.99), mean: ms.reduce((a, b) => a + b, 0) / ms.length };
}

interface Row { model: string; threads: number; part: string; p50Ms: number; p99Ms: number; meanMs: number }
const rows: Row[] = [];

for (const name of values.names!.split(',')) {
  const dir = join(values.models!, name);
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  const v = config.video;
  const tok = new TextTokenizer(JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')));
  const [bos, eos] = [tok.singleTokenId(config.text.bos)!, tok.singleTokenId(config.text.eos)!];
  const frames = v.framesPerClip;
  const rgb = new Uint8Array(frames * v.imageWidth * v.imageHeight * 3).map((_, i) => (i * 2654435761) >>> 24);

  const pre = await time(async () => framesToPixelValues(rgb, frames, v.imageWidth, v.imageHeight, v));
  rows.push({ model: name, threads: 1, part: 'clip preprocess (RGB24 -> pixel_values)', p50Ms: pre.p50, p99Ms: pre.p99, meanMs: pre.mean });
  const pixels = framesToPixelValues(rgb, frames, v.imageWidth, v.imageHeight, v);

  for (const threads of values.threads!.split(',').map(Number)) {
    const opts: ort.InferenceSession.SessionOptions = { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all', ...FOLD_STORED_WEIGHTS }; // as src/model opens them
    const video = await ort.InferenceSession.create(join(dir, 'video.onnx'), opts);
    const text = await ort.InferenceSession.create(join(dir, 'text.onnx'), opts);
    const clip = new ort.Tensor('float32', pixels, [1, frames, 3, v.imageHeight, v.imageWidth]);
    const vt = await time(() => video.run({ pixel_values: clip }));
    rows.push({ model: name, threads, part: `video tower, 1 clip x ${frames} frames`, p50Ms: vt.p50, p99Ms: vt.p99, meanMs: vt.mean });
    let q = 0;
    const tt = await time(() => {
      const ids = [bos, ...tok.encode(QUERIES[q++ % QUERIES.length]).slice(0, config.text.maxTokens - 2), eos];
      return text.run({
        input_ids: new ort.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, ids.length]),
        attention_mask: new ort.Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]),
      });
    });
    rows.push({ model: name, threads, part: 'text tower, 1 query (tokenize + run)', p50Ms: tt.p50, p99Ms: tt.p99, meanMs: tt.mean });
    await video.release();
    await text.release();
  }
}

const cpu = cpus();
console.log(`CPU: ${cpu[0]?.model ?? 'unknown'} x ${cpu.length}; onnxruntime-node ${ort.env.versions?.common ?? ''}; node ${process.version}; ${runs} runs after ${warmup} warm-up`);
console.log('| model | threads | part | p50 ms | p99 ms | mean ms |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const r of rows) console.log(`| ${r.model} | ${r.threads} | ${r.part} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${r.meanMs.toFixed(2)} |`);
if (values.json) writeFileSync(values.json, JSON.stringify({ cpu: cpu[0]?.model, cores: cpu.length, runs, warmup, rows }, null, 2));
