/**
 * GPU checks and default-model benchmarks (issue 8), run on the device machine from the bundle that
 * scripts/gpu-bundle.sh builds (docs/gpu.md):
 *
 *   scripts/gpu-run.sh node .gpu/check.mjs --out DIR [--sections graphs,commentary,equivalence,step,concurrency]
 *
 * Every section writes DIR/<section>.json as soon as it ends (partial results survive a timeout) and
 * prints a summary. Ratios are measured in this one process, on this one machine.
 *   graphs       GPU (webgpu, K/V resident) vs CPU of every graph: vision, decoder (empty and cached past),
 *                kv_append, kv_gather (remove + re-rotate, truncate), kv_read
 *   commentary   60 s of greedy commentary, CPU provider + host K/V vs WebGPU + GPU K/V: same tokens?
 *                max |logit diff| over every decoder call; cache rows after the evictions
 *   equivalence  tiny-random-1l on WebGPU with GPU K/V: cache after evictions == fresh recompute (5 policies)
 *   step         per-second step latency, one stream, streaming policy at steady state: cpu (1 thread),
 *                cpu (all cores), webgpu with host K/V (CPU tensors in/out), webgpu with GPU K/V
 *   concurrency  stream-seconds per wall second with many streams on one EnginePool (= real-time 2 fps
 *                streams sustained): cpu (one worker per core) vs webgpu host K/V vs webgpu GPU K/V
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_CACHE_LIMITS, KvStore, inverseFrequencies, type CachePolicyName, type ContextCache } from '../../src/cache/index.js';
import { liveTensors } from '../../src/model/device-tensors.js';
import { defaultModelDir } from '../../src/model/default-model.js';
import { loadModelFolder, type ModelFolder } from '../../src/model/model-folder.js';
import { createOnnxBackend, type KvResidence, type OnnxBackend } from '../../src/model/onnx-backend.js';
import { EnginePool } from '../../src/model/pool.js';
import { StreamEngine, type StreamEngineOptions } from '../../src/model/stream-engine.js';
import { TextTokenizer } from '../../src/model/tokenizer.js';
// The cache-equivalence test's own options and fresh recompute, so the GPU run is that test.
import { freshLogits, pixelsFor, smallCacheEngineOptions } from '../../test/model/helpers.js';

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: process.env.OUT ?? 'gpu-results' },
    // The shipped model, or $SIGHTLINE_MODEL (the GPU bundle's env.sh points it at its own copy).
    model: { type: 'string', default: defaultModelDir() },
    tiny: { type: 'string', default: 'test/fixtures/models/tiny-random-1l' },
    sections: { type: 'string', default: 'graphs,commentary,equivalence,step,concurrency' },
    'step-seconds': { type: 'string', default: '60' },
    'commentary-seconds': { type: 'string', default: '60' },
    'concurrency-seconds': { type: 'string', default: '15' },
    /** The GPU provider under test; `cpu` here dry-runs this script on a machine without a GPU. */
    gpu: { type: 'string', default: 'webgpu' },
  },
});
const OUT = values.out!;
const GPU = values.gpu as 'webgpu';
mkdirSync(OUT, { recursive: true });
const sections = new Set(values.sections!.split(','));
const folder = loadModelFolder(values.model!);
const tokenizer = new TextTokenizer(folder.tokenizerJson, folder.tokenizerConfig);
const cfg = folder.config;
const geometry = { numLayers: cfg.decoder.numLayers, numKvHeads: cfg.decoder.numKvHeads, headDim: cfg.decoder.headDim };
const invFreq = inverseFrequencies(cfg.rope);
const cores = availableParallelism();

const save = (name: string, data: unknown): void => writeFileSync(join(OUT, `${name}.json`), JSON.stringify(data, null, 1));
const log = (s: string): void => console.log(s);

function diff(a: ArrayLike<number>, b: ArrayLike<number>): { maxAbs: number; relL2: number; n: number } {
  if (a.length !== b.length) return { maxAbs: Infinity, relL2: Infinity, n: -1 };
  let m = 0;
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    if (Number.isNaN(d)) return { maxAbs: NaN, relL2: NaN, n: a.length };
    m = Math.max(m, Math.abs(d));
    num += d * d;
    den += b[i] * b[i];
  }
  return { maxAbs: m, relL2: Math.sqrt(num / (den || 1)), n: a.length };
}

const backend = (f: ModelFolder, provider: string, kv: KvResidence, threads = 1): Promise<OnnxBackend> =>
  createOnnxBackend(f, { provider, intraOpThreads: threads, kv, fallbackToCpu: false });

const PREVIOUS = Array.from({ length: 120 }, (_, i) => ` Silva passes to Okafor, ${i} minutes played.`);

function engineOptions(policy: CachePolicyName, greedy: boolean): StreamEngineOptions {
  return {
    policy,
    limits: { ...DEFAULT_CACHE_LIMITS },
    maxBytesPerStream: 1 << 30,
    prompt: '',
    sampling: greedy ? { temperature: 0, topP: 1, repetitionPenalty: 1.05, seed: 7 } : { temperature: 0.9, topP: 0.9, repetitionPenalty: 1.05, seed: 7 },
    maxTokensPerSecond: cfg.generation.maxTokensPerSecond,
    repetitionWindowTokens: 64,
  };
}

const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? NaN;
const round = (x: number, d = 3): number => Number(x.toPrecision(d + 1));

// ------------------------------------------------------------------ graphs
if (sections.has('graphs')) {
  const cpu = await backend(folder, 'cpu', 'host');
  const gpu = await backend(folder, GPU, 'device');
  const rows: Record<string, unknown>[] = [];
  const px = pixelsFor(folder, 0);
  rows.push({ graph: 'vision.onnx', ...diff(await gpu.encodeFrames(px, 2), await cpu.encodeFrames(px, 2)) });
  const sc = new KvStore(geometry, 512, invFreq);
  const sg = new KvStore(geometry, 512, invFreq, gpu.createKvOps!(geometry, 512));
  const ids = tokenizer.encode(cfg.chat.system.replace('{prompt}', cfg.chat.defaultPrompt) + ' Kick off. Silva passes to Okafor.<|end|>');
  const e = await cpu.embedIds(ids);
  rows.push({ graph: 'decoder.onnx logits (empty past)', ...diff(await gpu.decode(e, ids.length, sg), await cpu.decode(e, ids.length, sc)) });
  const vis = await cpu.encodeFrames(px, 2);
  rows.push({ graph: 'decoder.onnx logits (cached past, 32 visual rows)', ...diff(await gpu.decode(vis, vis.length / cfg.decoder.hiddenSize, sg), await cpu.decode(vis, vis.length / cfg.decoder.hiddenSize, sc)) });
  const one = await cpu.embedIds([ids[3]]);
  rows.push({ graph: 'decoder.onnx logits (one token)', ...diff(await gpu.decode(one, 1, sg), await cpu.decode(one, 1, sc)) });
  const cmpRows = async (what: string): Promise<void> => {
    const r = await sg.read();
    const k = r.keys.map((x, l) => diff(x, sc.keyView(l)));
    const v = r.values.map((x, l) => diff(x, sc.valueView(l)));
    rows.push({ graph: what, maxAbs: Math.max(...k.map((x) => x.maxAbs), ...v.map((x) => x.maxAbs)), relL2: Math.max(...k.map((x) => x.relL2), ...v.map((x) => x.relL2)), n: sc.length });
  };
  await cmpRows('new K/V via kv_append + kv_read');
  sc.remove(5, 20);
  sg.remove(5, 20);
  await cmpRows('kv_gather: remove rows 5..19, re-rotate the rest by -15');
  sc.truncate(30);
  sg.truncate(30);
  await cmpRows('kv_gather: truncate to 30');
  rows.push({ graph: 'decoder.onnx logits after remove + truncate', ...diff(await gpu.decode(one, 1, sg), await cpu.decode(one, 1, sc)) });
  sg.dispose();
  await cpu.dispose();
  await gpu.dispose();
  save('graphs', { model: cfg.name, rows, liveTensorsAfter: liveTensors() });
  log(`graphs (${cfg.name}): GPU vs CPU`);
  console.table(rows.map((r) => ({ ...r, maxAbs: (r.maxAbs as number).toExponential(2), relL2: (r.relL2 as number).toExponential(2) })));
}

// ------------------------------------------------------------------ commentary
if (sections.has('commentary')) {
  const seconds = Number(values['commentary-seconds']);
  // Two greedy runs: the model as it is (on these synthetic frames it mostly says " ..."), and with the
  // silence token banned, so every second speaks and commentary moves into previous text.
  const silenceId = tokenizer.encode(cfg.chat.silence)[0];
  for (const variant of ['greedy', 'greedy, silence banned'] as const) {
  const bias = variant === 'greedy' ? undefined : { [silenceId]: -100 };
  const run = async (provider: string, kv: KvResidence): Promise<{ texts: string[]; ids: number[][]; logits: Float32Array[]; cache: ContextCache; engine: StreamEngine; b: OnnxBackend; ms: number }> => {
    const b = await backend(folder, provider, kv);
    const logits: Float32Array[] = [];
    const decode = b.decode.bind(b);
    b.decode = async (x, t, s) => {
      const l = await decode(x, t, s);
      logits.push(l.slice());
      return l;
    };
    const o = engineOptions('streaming', true);
    const engine = new StreamEngine(b, tokenizer, cfg, { ...o, sampling: { ...o.sampling, logitBias: bias } });
    await engine.restart([]);
    const texts: string[] = [];
    const ids: number[][] = [];
    const t0 = performance.now();
    for (let sec = 0; sec < seconds; sec++) {
      const r = await engine.step({ startSec: sec, endSec: sec + 1, pixelValues: pixelsFor(folder, sec), frames: 2 });
      texts.push(r.text);
      ids.push(r.tokenIds);
    }
    return { texts, ids, logits, cache: engine.cache, engine, b, ms: performance.now() - t0 };
  };
  const a = await run('cpu', 'host');
  const g = await run(GPU, 'device');
  const sameSeconds = a.ids.filter((x, i) => JSON.stringify(x) === JSON.stringify(g.ids[i])).length;
  let maxLogit = 0;
  const calls = Math.min(a.logits.length, g.logits.length);
  for (let i = 0; i < calls; i++) maxLogit = Math.max(maxLogit, diff(g.logits[i], a.logits[i]).maxAbs);
  const rows = await g.cache.store.read();
  const kvDiff = Math.max(...rows.keys.map((k, l) => diff(k, a.cache.store.keyView(l)).maxAbs), ...rows.values.map((v, l) => diff(v, a.cache.store.valueView(l)).maxAbs));
  const gpuBefore = liveTensors();
  g.engine.dispose();
  const gpuAfter = liveTensors();
  const result = {
    model: cfg.name,
    variant,
    seconds,
    sameTokensSeconds: sameSeconds,
    identicalTokens: sameSeconds === seconds,
    decoderCalls: { cpu: a.logits.length, gpu: g.logits.length },
    maxAbsLogitDiff: maxLogit,
    cacheRows: a.cache.store.length,
    cacheRowsMaxAbsDiff: kvDiff,
    previousTextTokens: a.cache.layout.previousTextTokens,
    wallMs: { cpu: round(a.ms), gpu: round(g.ms) },
    liveTensors: { beforeClose: gpuBefore, afterClose: gpuAfter },
    textsCpu: a.texts,
    textsGpu: g.texts,
  };
  save(variant === 'greedy' ? 'commentary' : 'commentary-speaking', result);
  await a.b.dispose();
  await g.b.dispose();
  log(`commentary ${seconds} s ${variant}: previous text ${a.cache.layout.previousTextTokens} tokens, identical tokens ${sameSeconds}/${seconds} s, decoder calls ${a.logits.length}/${g.logits.length}, max |logit diff| ${maxLogit.toExponential(2)}, cache rows ${a.cache.store.length} max diff ${kvDiff.toExponential(2)}, live tensors ${JSON.stringify(gpuBefore)} -> ${JSON.stringify(gpuAfter)}`);
}
}

// ------------------------------------------------------------------ equivalence
if (sections.has('equivalence')) {
  const tiny = loadModelFolder(values.tiny!);
  const tt = new TextTokenizer(tiny.tokenizerJson, tiny.tokenizerConfig);
  const b = await backend(tiny, GPU, 'device');
  const rows: Record<string, unknown>[] = [];
  for (const policy of ['streaming', 'refresh', 'window', 'full', 'recompute'] as CachePolicyName[]) {
    const engine = new StreamEngine(b, tt, tiny.config, smallCacheEngineOptions(policy));
    await engine.restart([' Kick off.', ' Silva passes.']);
    let evicted = 0;
    for (let sec = 0; sec < 24; sec++) evicted += (await engine.step({ startSec: sec, endSec: sec + 1, pixelValues: pixelsFor(tiny, sec), frames: 2 })).evictedRounds;
    const { cache } = engine;
    const probe = tt.encode(' Goal')[0];
    // Fresh recompute of exactly the kept rows at 0..n-1, on a fresh GPU-resident store.
    const expected = await freshLogits({ folder: tiny, backend: b, tokenizer: tt }, cache, probe);
    cache.beginSecond();
    // recompute re-encodes everything each second, refresh what its last eviction dropped: catch up first.
    if (policy === 'recompute' || policy === 'refresh') await (engine as unknown as { catchUp(): Promise<void> }).catchUp();
    const actual = await b.decode(await b.embedIds([probe]), 1, cache.store);
    engine.dispose();
    rows.push({ policy, evictedRounds: evicted, keptRows: cache.layout.totalTokens, ...diff(actual, expected), pass: diff(actual, expected).maxAbs <= 1e-4 });
  }
  await b.dispose();
  save('equivalence', { model: tiny.config.name, rows, liveTensorsAfter: liveTensors() });
  log(`equivalence (${tiny.config.name}, webgpu, GPU K/V): cache after evictions vs fresh recompute`);
  console.table(rows);
}

// ------------------------------------------------------------------ step
if (sections.has('step')) {
  const seconds = Number(values['step-seconds']);
  const configs: [label: string, provider: string, kv: KvResidence, threads: number][] = [
    ['cpu, 1 thread', 'cpu', 'host', 1],
    [`cpu, ${cores} threads`, 'cpu', 'host', cores],
    ['webgpu, K/V on host (CPU tensors in/out)', GPU, 'host', 1],
    ['webgpu, K/V on GPU', GPU, 'device', 1],
  ];
  const rows: Record<string, number | string>[] = [];
  for (const [label, provider, kv, threads] of configs) {
    const b = await backend(folder, provider, kv, threads);
    const engine = new StreamEngine(b, tokenizer, cfg, engineOptions('streaming', false));
    await engine.restart(PREVIOUS);
    const ms: number[] = [];
    let tokens = 0;
    let decodeMs = 0;
    let prefillMs = 0;
    let visionMs = 0;
    for (let sec = 0; sec < seconds + 10; sec++) {
      const t = performance.now();
      const r = await engine.step({ startSec: sec, endSec: sec + 1, pixelValues: pixelsFor(folder, sec % 8), frames: 2 });
      if (sec < 10) continue; // warm-up: shader compilation, allocator growth
      ms.push(performance.now() - t);
      tokens += r.tokenIds.length + 1;
      decodeMs += r.timings.decodeMs;
      prefillMs += r.timings.prefillMs;
      visionMs += r.timings.visionMs;
    }
    rows.push({
      config: label,
      p50Ms: round(pct(ms, 0.5)),
      p90Ms: round(pct(ms, 0.9)),
      p99Ms: round(pct(ms, 0.99)),
      meanVisionMs: round(visionMs / ms.length),
      meanPrefillMs: round(prefillMs / ms.length),
      msPerToken: round(decodeMs / tokens),
      tokensPerSec: round(tokens / ms.length),
      cacheTokens: engine.cache.store.length,
    });
    engine.dispose();
    await b.dispose();
    save('step', { model: cfg.name, seconds, rows });
  }
  const base = rows[0].p50Ms as number;
  for (const r of rows) r.vsCpu1 = round(base / (r.p50Ms as number));
  const host = rows[2].p50Ms as number;
  rows[3].vsWebgpuHost = round(host / (rows[3].p50Ms as number));
  save('step', { model: cfg.name, seconds, rows });
  log(`per-second step latency, ${cfg.name}, streaming policy at steady state, ${seconds} s (speed-up = cpu 1-thread p50 / p50)`);
  console.table(rows);
}

// ------------------------------------------------------------------ concurrency
if (sections.has('concurrency')) {
  const seconds = Number(values['concurrency-seconds']);
  const configs: [label: string, device: 'cpu' | 'webgpu', kv: KvResidence, workers: number, streams: number][] = [
    [`cpu, ${cores} workers x 1 thread`, 'cpu', 'host', cores, cores * 3],
    ['webgpu, K/V on host, 1 worker', GPU, 'host', 1, 24],
    ['webgpu, K/V on GPU, 1 worker', GPU, 'device', 1, 24],
  ];
  const rows: Record<string, number | string>[] = [];
  const v = cfg.vision;
  const rgb = new Uint8Array(2 * v.imageWidth * v.imageHeight * 3).map((_, i) => (i * 2654435761) >>> 24);
  for (const [label, device, kv, workers, streams] of configs) {
    const pool = await EnginePool.create({ modelDir: values.model!, device, kv, workers });
    const opts = engineOptions('streaming', false);
    await Promise.all(Array.from({ length: streams }, (_, i) => pool.open(`s${i}`, opts, PREVIOUS)));
    const lat: number[] = [];
    const runStream = async (id: string, n: number, record: boolean): Promise<void> => {
      for (let sec = 0; sec < n; sec++) {
        const t = performance.now();
        await pool.step(id, { startSec: sec, endSec: sec + 1, rgb, frames: 2, width: v.imageWidth, height: v.imageHeight });
        if (record) lat.push(performance.now() - t);
      }
    };
    await Promise.all(Array.from({ length: streams }, (_, i) => runStream(`s${i}`, 2, false)));
    const t0 = performance.now();
    await Promise.all(Array.from({ length: streams }, (_, i) => runStream(`s${i}`, seconds, true)));
    const wall = (performance.now() - t0) / 1000;
    await pool.destroy();
    const throughput = (streams * seconds) / wall;
    rows.push({ config: label, streams, streamSecondsPerSec: round(throughput), realtimeStreams: Math.floor(throughput), stepLatencyP50Ms: round(pct(lat, 0.5)), stepLatencyP99Ms: round(pct(lat, 0.99)) });
    save('concurrency', { model: cfg.name, seconds, rows });
  }
  log(`concurrency, ${cfg.name}: stream-seconds served per wall second with every stream busy = real-time 2 fps streams sustained`);
  console.table(rows);
}
log(`done; live tensors ${JSON.stringify(liveTensors())}`);
