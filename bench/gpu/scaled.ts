/**
 * Scaled-model stream benchmark on the GPU (issue 8): a >= 1B random-weight model (make_scaled_model.py)
 * on WebGPU with the K/V resident on the GPU, one stream per cache policy, each for up to --stream-seconds
 * of stream time or --wall-seconds of wall time, whichever comes first (what was run is in the output).
 * Every --every stream-seconds it records: per-token decode latency (p50/p90 over the interval),
 * visual-token prefill throughput (prefix rows per second of prefill: header + visual + assistant rows of
 * the second, recompute also re-encodes the whole kept context), step latency, cache rows, GPU memory
 * used (nvidia-smi, whole GPU) and process RSS.
 *
 *   bash .gpu/run.sh node .gpu/scaled.mjs --model /tmp/scaled --out $OUT \
 *     [--policies streaming:3600:300,full:600:90,recompute:600:90] [--tokens-per-second 4] [--every 60]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_CACHE_LIMITS, type CachePolicyName } from '../../src/cache/index.js';
import { isSightlineError } from '../../src/errors.js';
import { liveTensors } from '../../src/model/device-tensors.js';
import { loadModelFolder } from '../../src/model/model-folder.js';
import { createOnnxBackend } from '../../src/model/onnx-backend.js';
import { framesToPixelValues } from '../../src/model/preprocess.js';
import { StreamEngine } from '../../src/model/stream-engine.js';
import { TextTokenizer } from '../../src/model/tokenizer.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: '/tmp/scaled' },
    out: { type: 'string', default: process.env.OUT ?? 'scaled-results' },
    policies: { type: 'string', default: 'streaming:3600:300,full:600:90,recompute:600:90' },
    'tokens-per-second': { type: 'string', default: '4' },
    every: { type: 'string', default: '60' },
    provider: { type: 'string', default: 'webgpu' },
  },
});
const every = Number(values.every);
const t0 = performance.now();
const folder = loadModelFolder(values.model!);
const cfg = folder.config;
const tokenizer = new TextTokenizer(folder.tokenizerJson, folder.tokenizerConfig);
const backend = await createOnnxBackend(folder, { provider: values.provider!, intraOpThreads: 4, fallbackToCpu: false });
const loadSec = (performance.now() - t0) / 1000;
// Prefill = decoder calls over more than 2 rows (a round's header + visual + assistant rows, or a
// recompute's whole context); generation calls carry 1 or 2 rows.
let prefillRows = 0;
let prefillMs = 0;
const decode = backend.decode.bind(backend);
backend.decode = async (e, tokens, store) => {
  const t = performance.now();
  const l = await decode(e, tokens, store);
  if (tokens > 2) {
    prefillRows += tokens;
    prefillMs += performance.now() - t;
  }
  return l;
};
const v = cfg.vision;
const pixels = Array.from({ length: 8 }, (_, s) => {
  const rgb = new Uint8Array(2 * v.imageWidth * v.imageHeight * 3).map((_, i) => ((i + s * 7919) * 2654435761) >>> 24);
  return framesToPixelValues(rgb, 2, v.imageWidth, v.imageHeight, v);
});
const smi = ['/usr/local/nvidia/bin/nvidia-smi', '/usr/bin/nvidia-smi', 'nvidia-smi'].find((p) => p === 'nvidia-smi' || existsSync(p))!;
function gpuMemMiB(): number {
  const r = spawnSync(smi, ['--query-gpu=memory.used', '--format=csv,noheader,nounits'], { encoding: 'utf8' });
  return r.status === 0 ? Number(r.stdout.trim().split('\n')[0]) : NaN;
}
const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? NaN;
const r3 = (x: number): number => Number(x.toPrecision(4));
const out: Record<string, unknown> = { model: cfg.name, decoder: cfg.decoder, provider: backend.provider, kv: backend.kv, loadSec: r3(loadSec), tokensPerSecond: Number(values['tokens-per-second']), gpuMemMiBAfterLoad: gpuMemMiB(), runs: [] as unknown[] };
const save = (): void => writeFileSync(join(values.out!, 'scaled.json'), JSON.stringify(out, null, 1));
console.log(`${cfg.name} (${cfg.decoder.numLayers} layers, d=${cfg.decoder.hiddenSize}) on ${backend.provider}, K/V ${backend.kv}; loaded in ${loadSec.toFixed(1)} s; GPU memory ${out.gpuMemMiBAfterLoad} MiB`);

for (const spec of values.policies!.split(',')) {
  const [policy, streamSec, wallSec] = spec.split(':') as [CachePolicyName, string, string];
  const engine = new StreamEngine(backend, tokenizer, cfg, {
    policy,
    limits: { ...DEFAULT_CACHE_LIMITS },
    maxBytesPerStream: 64 * 2 ** 30,
    prompt: '',
    sampling: { temperature: 0.9, topP: 0.9, repetitionPenalty: 1.05, seed: 7 },
    maxTokensPerSecond: Number(values['tokens-per-second']),
    repetitionWindowTokens: 64,
  });
  await engine.restart([]);
  const checkpoints: Record<string, number | string>[] = [];
  const run = { policy, streamSecondsPlanned: Number(streamSec), wallSecondsCap: Number(wallSec), streamSecondsRun: 0, wallSec: 0, end: 'stream time reached', checkpoints };
  (out.runs as unknown[]).push(run);
  let tokMs: number[] = [];
  let stepMs: number[] = [];
  prefillRows = 0;
  prefillMs = 0;
  const start = performance.now();
  for (let sec = 0; sec < Number(streamSec); sec++) {
    const t = performance.now();
    let r;
    try {
      r = await engine.step({ startSec: sec, endSec: sec + 1, pixelValues: pixels[sec % 8], frames: 2 });
    } catch (err) {
      if (!isSightlineError(err) || err.code !== 'cache_full') throw err;
      run.end = `cache_full at ${sec} s (${engine.cache.store.length} rows)`;
      break;
    }
    stepMs.push(performance.now() - t);
    const generated = r.tokenIds.length + 1;
    tokMs.push(r.timings.decodeMs / generated);
    run.streamSecondsRun = sec + 1;
    const last = sec + 1 === Number(streamSec);
    const overWall = (performance.now() - start) / 1000 >= Number(wallSec);
    if ((sec + 1) % every === 0 || last || overWall) {
      const row = {
        streamSec: sec + 1,
        wallSec: r3((performance.now() - start) / 1000),
        cacheRows: engine.cache.store.length,
        msPerTokenP50: r3(pct(tokMs, 0.5)),
        msPerTokenP90: r3(pct(tokMs, 0.9)),
        stepMsP50: r3(pct(stepMs, 0.5)),
        prefillRowsPerSec: r3((prefillRows / prefillMs) * 1000),
        gpuMemMiB: gpuMemMiB(),
        rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
        liveGpuTensors: liveTensors().gpu,
      };
      checkpoints.push(row);
      console.log(`${policy} ${JSON.stringify(row)}`);
      tokMs = [];
      stepMs = [];
      prefillRows = 0;
      prefillMs = 0;
      run.wallSec = r3((performance.now() - start) / 1000);
      save();
    }
    if (overWall) {
      run.end = `wall cap ${wallSec} s reached at ${sec + 1} s of stream`;
      break;
    }
  }
  run.wallSec = r3((performance.now() - start) / 1000);
  engine.dispose();
  save();
  console.log(`${policy}: ${run.streamSecondsRun} s of stream in ${run.wallSec} s wall (${run.end}); live GPU tensors after close ${liveTensors().gpu}`);
}
await backend.dispose();
console.log('per policy, last checkpoint:');
console.table((out.runs as { policy: string; streamSecondsRun: number; end: string; checkpoints: Record<string, unknown>[] }[]).map((r) => ({ policy: r.policy, streamSec: r.streamSecondsRun, end: r.end, ...r.checkpoints.at(-1) })));
