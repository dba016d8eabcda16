/**
 * CPU latency of a commentary model's graphs with onnxruntime-node (the numbers in its model card):
 * vision encoder per frame, decoder per generated token at several cache lengths, and the prefill of one
 * second's visual tokens. One intra-op thread, as each engine worker runs.
 *   npx tsx bench/commentator-latency.ts [model-dir]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { SHIPPED_MODEL_DIR } from '../src/model/default-model.js';
import { FOLD_STORED_WEIGHTS } from '../src/model/onnx-session.js';

const dir = process.argv[2] ?? SHIPPED_MODEL_DIR;
const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
const { hiddenSize: d, numLayers, numKvHeads, headDim } = config.decoder;
const { imageWidth: w, imageHeight: h, tokensPerFrame, framesPerSecond } = config.vision;

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

async function time(runs: number, fn: () => Promise<unknown>): Promise<{ p50: number; p99: number }> {
  for (let i = 0; i < 3; i++) await fn();
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    ms.push(performance.now() - t);
  }
  return { p50: percentile(ms, 50), p99: percentile(ms, 99) };
}

const opts: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all', ...FOLD_STORED_WEIGHTS }; // as src/model opens them
const vision = await ort.InferenceSession.create(join(dir, 'vision.onnx'), opts);
const decoder = await ort.InferenceSession.create(join(dir, 'decoder.onnx'), opts);
const rand = (n: number) => Float32Array.from({ length: n }, () => Math.random() * 2 - 1);

const frames = new ort.Tensor('float32', rand(framesPerSecond * 3 * h * w), [framesPerSecond, 3, h, w]);
const v = await time(30, () => vision.run({ pixel_values: frames }));
console.log(`model ${config.name}: vision ${w}x${h}, ${tokensPerFrame} tokens/frame, decoder d=${d} x ${numLayers} layers`);
console.log(`vision encoder per frame: p50 ${(v.p50 / framesPerSecond).toFixed(2)} ms, p99 ${(v.p99 / framesPerSecond).toFixed(2)} ms`);

function feeds(t: number, past: number): Record<string, ort.Tensor> {
  const f: Record<string, ort.Tensor> = {
    inputs_embeds: new ort.Tensor('float32', rand(t * d), [1, t, d]),
    position_ids: new ort.Tensor('int64', BigInt64Array.from({ length: t }, (_, i) => BigInt(past + i)), [1, t]),
  };
  for (let l = 0; l < numLayers; l++) {
    f[`past_key_${l}`] = new ort.Tensor('float32', rand(past * numKvHeads * headDim), [1, past, numKvHeads, headDim]);
    f[`past_value_${l}`] = new ort.Tensor('float32', rand(past * numKvHeads * headDim), [1, past, numKvHeads, headDim]);
  }
  return f;
}

for (const past of [256, 1024, 2048]) {
  const one = feeds(1, past);
  const tok = await time(50, () => decoder.run(one));
  const round = feeds(framesPerSecond * tokensPerFrame + 8, past);
  const pre = await time(20, () => decoder.run(round));
  console.log(`cache ${String(past).padStart(4)} tokens: decode per token p50 ${tok.p50.toFixed(2)} ms p99 ${tok.p99.toFixed(2)} ms; prefill of one second (${framesPerSecond * tokensPerFrame + 8} tokens) p50 ${pre.p50.toFixed(2)} ms`);
}
