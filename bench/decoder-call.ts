/**
 * What one decoder call costs, for two model folders side by side (paired: the calls alternate A, B, A, B in
 * one process), by batch B, new rows T and cached rows P: the graph's own cost, without the engine around it.
 * Made to compare two exports of the same weights (issue 19: "fewer, larger kernels"), or one folder twice
 * with provider settings for the second (`--b-env`); it also checks that both give the same logits and new
 * K/V (max abs difference printed) on every configuration.
 *
 *   npx tsx bench/decoder-call.ts --models OLD_DIR,NEW_DIR [--provider cpu|webgpu] [--batches 1,8,64]
 *     [--rows 1,64] [--past 1000] [--calls 20] [--threads 1] [--b-env SIGHTLINE_WEBGPU_VALIDATION=disabled,...]
 *
 * Inputs are random (embeddings; past K/V on the CPU, on webgpu the K/V of a prefill of P random rows, left
 * on the GPU as the engine keeps them), every row sees all P cached rows. On webgpu the new K/V stay on the
 * GPU and the logits come back to the host, as in the engine. One JSON line per configuration: median / p90 ms of each folder, the ratio
 * A / B of the medians, host cores used while timing (process CPU time / wall) and the largest difference.
 */
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { loadModelFolder } from '../src/model/model-folder.js';
import { FOLD_STORED_WEIGHTS, mergeSessionOptions, providerOptions } from '../src/model/onnx-session.js';

const { values } = parseArgs({
  options: {
    models: { type: 'string' },
    provider: { type: 'string', default: 'cpu' },
    batches: { type: 'string', default: '1,8,64' },
    rows: { type: 'string', default: '1,64' },
    past: { type: 'string', default: '1000' },
    calls: { type: 'string', default: '20' },
    threads: { type: 'string', default: '1' },
    /** Environment for the second folder's session only (providerOptions: SIGHTLINE_WEBGPU_*), KEY=VALUE,... */
    'b-env': { type: 'string', default: '' },
  },
});
const dirs = (values.models ?? '').split(',').filter(Boolean);
if (dirs.length !== 2) throw new Error('--models: give two model folders, OLD,NEW');
const provider = values.provider!;
const onGpu = provider !== 'cpu';
const list = (s: string): number[] => s.split(',').map(Number);
const P = Number(values.past);
const calls = Number(values.calls);
const folders = dirs.map((d) => loadModelFolder(d));
const c = folders[0].config.decoder;
const L = c.numLayers;
const kvDims = (b: number, rows: number): number[] => [b, rows, c.numKvHeads, c.headDim];

const newNames = Array.from({ length: L }, (_, l) => [`new_key_${l}`, `new_value_${l}`]).flat();
const location: Record<string, ort.Tensor.DataLocation> = { logits: 'cpu' };
for (const n of newNames) location[n] = 'gpu-buffer';

const bEnv = Object.fromEntries(values['b-env']!.split(',').filter(Boolean).map((kv) => kv.split('=') as [string, string]));

async function open(path: string, env: NodeJS.ProcessEnv): Promise<ort.InferenceSession> {
  const base = { ...providerOptions(provider, env), intraOpNumThreads: Number(values.threads), interOpNumThreads: 1, graphOptimizationLevel: 'all' as const };
  return ort.InferenceSession.create(path, mergeSessionOptions(base, { ...FOLD_STORED_WEIGHTS, ...(onGpu ? { preferredOutputLocation: location } : {}) }));
}

let seed = 1;
function random(n: number, scale: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    a[i] = (seed / 2 ** 32 - 0.5) * 2 * scale;
  }
  return a;
}

/** Past K/V on the GPU, as the engine keeps them: the new K/V of a prefill of P rows (outputs left there). */
async function devicePast(session: ort.InferenceSession, B: number): Promise<ort.Tensor[]> {
  const empty = new ort.Tensor('float32', new Float32Array(0), kvDims(B, 0));
  const feeds: Record<string, ort.Tensor> = {
    inputs_embeds: new ort.Tensor('float32', random(B * P * c.hiddenSize, 0.05), [B, P, c.hiddenSize]),
    position_ids: new ort.Tensor('int64', BigInt64Array.from({ length: B * P }, (_, i) => BigInt(i % P)), [B, P]),
    attention_mask: new ort.Tensor('int64', new BigInt64Array(B * P).fill(1n), [B, P]),
  };
  for (let l = 0; l < L; l++) feeds[`past_key_${l}`] = feeds[`past_value_${l}`] = empty;
  const out = await session.run(feeds);
  return newNames.map((n) => out[n]);
}

const pct = (xs: number[], q: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];
const round = (x: number, d = 2): number => Math.round(x * 10 ** d) / 10 ** d;

console.log(JSON.stringify({ old: dirs[0], new: dirs[1], newEnv: bEnv, provider, threads: Number(values.threads), calls }));
const sessions = [await open(folders[0].decoderPath, {}), await open(folders[1].decoderPath, bEnv)];
for (const B of list(values.batches!)) {
  for (const T of list(values.rows!)) {
    const past = onGpu ? await devicePast(sessions[0], B) : newNames.map(() => new ort.Tensor('float32', random(B * P * c.numKvHeads * c.headDim, 0.5), kvDims(B, P)));
    const feeds: Record<string, ort.Tensor> = {
      inputs_embeds: new ort.Tensor('float32', random(B * T * c.hiddenSize, 0.05), [B, T, c.hiddenSize]),
      position_ids: new ort.Tensor('int64', BigInt64Array.from({ length: B * T }, (_, i) => BigInt(P + (i % T))), [B, T]),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(B * (P + T)).fill(1n), [B, P + T]),
    };
    for (let l = 0; l < L; l++) {
      feeds[`past_key_${l}`] = past[2 * l];
      feeds[`past_value_${l}`] = past[2 * l + 1];
    }
    const ms: number[][] = [[], []];
    const logits: Float32Array[] = [];
    const newHost: Float32Array[][] = [[], []];
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < calls + 3; i++) {
      for (let m = 0; m < 2; m++) {
        const t = performance.now();
        const out = await sessions[m].run(feeds);
        if (i >= 3) ms[m].push(performance.now() - t);
        if (i === 0) {
          logits[m] = out.logits.data as Float32Array;
          if (!onGpu) newHost[m] = newNames.map((n) => out[n].data as Float32Array);
        }
        if (onGpu) for (const n of newNames) out[n].dispose();
      }
    }
    const wall = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const maxDiff = (a: Float32Array, b: Float32Array): number => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);
    let diff = maxDiff(logits[0], logits[1]);
    for (let i = 0; i < newHost[0].length; i++) diff = Math.max(diff, maxDiff(newHost[0][i], newHost[1][i]));
    if (onGpu) for (const t of past) t.dispose();
    const [a, b] = ms.map((x) => pct(x, 0.5));
    console.log(JSON.stringify({
      provider, B, T, P,
      oldMedianMs: round(a), oldP90Ms: round(pct(ms[0], 0.9)),
      newMedianMs: round(b), newP90Ms: round(pct(ms[1], 0.9)),
      oldOverNew: round(a / b), hostCores: round((cpu.user + cpu.system) / 1000 / wall),
      maxAbsDiff: Number(diff.toExponential(2)),
    }));
  }
}
await Promise.all(sessions.map((s) => s.release()));
