/**
 * Per-second step cost of one continuous stream, as fast as possible, for the cache policies at the
 * same window: latency p50/p99 over the minute ending at each checkpoint, decoder rows encoded per
 * second (hardware-independent work), KV bytes per stream, and ratios against `streaming`.
 *
 *   npx tsx bench/engine-cache.ts [--model DIR] [--minutes 1,2,10,60,180] [--recompute-minutes 1,2]
 *
 * `recompute` costs O(window) per second, so it reaches its steady state once its window and previous
 * text are full (about a minute at the defaults); it runs to --recompute-minutes only (all 180 minutes
 * would take hours here) and ratios use its last checkpoint. `full` runs until its cache does not fit.
 *
 * Runs the backend in this thread (no worker) so only engine cost is measured.
 *
 * Paired check (on by default, --paired false to skip): wall and CPU time drift by up to 40% between
 * minutes on a shared VM, so comparing minute 180 with a minute measured three hours earlier mostly
 * measures the VM. After the streaming run, that old stream and a fresh one (warmed to minute 2)
 * alternate one step each for two minutes, and their step costs are compared under the same load.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { CachePolicyName } from '../src/cache/index.js';
import { DEFAULT_CACHE_LIMITS } from '../src/cache/index.js';
import { isSightlineError } from '../src/errors.js';
import { loadModelFolder } from '../src/model/model-folder.js';
import { createOnnxBackend } from '../src/model/onnx-backend.js';
import { StreamEngine } from '../src/model/stream-engine.js';
import { TextTokenizer } from '../src/model/tokenizer.js';
import { framesToPixelValues } from '../src/model/preprocess.js';
import { countDecoderRows } from './video-engine.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: join(import.meta.dirname, '..', 'test', 'fixtures', 'models', 'tiny-random-2l') },
    minutes: { type: 'string', default: '1,2,10,60,180' },
    policies: { type: 'string', default: 'streaming,full,recompute' },
    'recompute-minutes': { type: 'string', default: '1,2' },
    paired: { type: 'string', default: 'true' },
  },
});
const checkpoints = values.minutes!.split(',').map(Number);
const policies = values.policies!.split(',') as CachePolicyName[];
const recomputeCheckpoints = values['recompute-minutes']!.split(',').map(Number);
const folder = loadModelFolder(values.model!);
const tokenizer = new TextTokenizer(folder.tokenizerJson, folder.tokenizerConfig);
const backend = await createOnnxBackend(folder, { provider: 'cpu', intraOpThreads: 1 });
const decoder = countDecoderRows(backend);

const v = folder.config.vision;
const frames = Math.ceil(v.framesPerSecond);
const rgb = new Uint8Array(frames * v.imageWidth * v.imageHeight * 3).map((_, i) => (i * 2654435761) >>> 24);
const pixels = framesToPixelValues(rgb, frames, v.imageWidth, v.imageHeight, v);

interface Row { policy: string; minute: number; p50Ms: number; p99Ms: number; cpuP50Ms: number; rowsPerSec: number; kvBytes: number; tokens: number; rssMiB: number; note: string }
const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];

const rows: Row[] = [];
const makeEngine = (policy: CachePolicyName): StreamEngine =>
  new StreamEngine(backend, tokenizer, folder.config, {
    policy,
    limits: { ...DEFAULT_CACHE_LIMITS },
    maxBytesPerStream: 1 << 30,
    prompt: '',
    sampling: { temperature: 0.9, topP: 0.9, repetitionPenalty: 1.05, seed: 7 },
    maxTokensPerSecond: folder.config.generation.maxTokensPerSecond,
    repetitionWindowTokens: 64,
  });
let oldStreaming: { engine: StreamEngine; nextSec: number } | undefined;
for (const policy of policies) {
  const engine = makeEngine(policy);
  await engine.restart([]);
  let window: number[] = [];
  // CPU time of the step (onnxruntime runs on this thread with 1 intra-op thread): unlike wall time it
  // does not count time the VM's CPU was taken by others, so it shows the step's own cost over time.
  let cpuWindow: number[] = [];
  let windowRows = 0;
  const marks = policy === 'recompute' ? recomputeCheckpoints : checkpoints;
  const last = Math.max(...marks) * 60;
  const t0 = performance.now();
  for (let sec = 0; sec < last; sec++) {
    let cost: Awaited<ReturnType<typeof timedStep>>;
    try {
      cost = await timedStep(engine, sec);
    } catch (err) {
      if (!isSightlineError(err) || err.code !== 'cache_full') throw err;
      const s = engine.cache.stats();
      rows.push({ policy, minute: +(sec / 60).toFixed(2), p50Ms: pct(window, 0.5), p99Ms: pct(window, 0.99), cpuP50Ms: pct(cpuWindow, 0.5), rowsPerSec: windowRows / window.length, kvBytes: s.bytes, tokens: s.tokens, rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20), note: `cache_full at ${sec} s` });
      break;
    }
    window.push(cost.wallMs);
    cpuWindow.push(cost.cpuMs);
    if (cpuWindow.length > 60) cpuWindow = cpuWindow.slice(-60);
    windowRows += cost.rows;
    if (window.length > 60) window = window.slice(-60);
    if (marks.includes((sec + 1) / 60)) {
      const s = engine.cache.stats();
      rows.push({ policy, minute: (sec + 1) / 60, p50Ms: pct(window, 0.5), p99Ms: pct(window, 0.99), cpuP50Ms: pct(cpuWindow, 0.5), rowsPerSec: windowRows / window.length, kvBytes: s.bytes, tokens: s.tokens, rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20), note: '' });
    }
    if ((sec + 1) % 60 === 0) windowRows = 0;
  }
  process.stderr.write(`${policy}: ${((performance.now() - t0) / 1000).toFixed(1)} s wall\n`);
  if (policy === 'streaming') oldStreaming = { engine, nextSec: last };
}

console.log(`model ${folder.config.name} (${folder.config.decoder.numLayers} layers, d=${folder.config.decoder.hiddenSize}); window ${DEFAULT_CACHE_LIMITS.windowSec} s, text sink ${DEFAULT_CACHE_LIMITS.textSinkTokens} + window ${DEFAULT_CACHE_LIMITS.textWindowTokens}`);
console.table(rows.map((r) => ({ ...r, p50Ms: +r.p50Ms.toFixed(2), p99Ms: +r.p99Ms.toFixed(2), cpuP50Ms: +r.cpuP50Ms.toFixed(2), rowsPerSec: Math.round(r.rowsPerSec) })));
const at = (p: string, m: number) => rows.find((r) => r.policy === p && r.minute === m);
const first = checkpoints[0];
const lastMin = checkpoints.at(-1)!;
const s0 = at('streaming', 2) ?? at('streaming', first);
const s1 = at('streaming', lastMin);
if (s0 && s1) {
  console.log(`streaming minute ${lastMin} / minute ${s0.minute}: p50 ${(s1.p50Ms / s0.p50Ms).toFixed(3)}x, cpu p50 ${(s1.cpuP50Ms / s0.cpuP50Ms).toFixed(3)}x, p99 ${(s1.p99Ms / s0.p99Ms).toFixed(3)}x, decoder rows ${(s1.rowsPerSec / s0.rowsPerSec).toFixed(3)}x, KV bytes ${s1.kvBytes} vs ${s0.kvBytes}`);
}
const r = rows.filter((x) => x.policy === 'recompute').at(-1);
for (const m of checkpoints) {
  const s = at('streaming', m);
  if (s && r) console.log(`minute ${m}: recompute (minute ${r.minute}) / streaming  time p50 ${(r.p50Ms / s.p50Ms).toFixed(1)}x, cpu p50 ${(r.cpuP50Ms / s.cpuP50Ms).toFixed(1)}x, decoder rows per second ${(r.rowsPerSec / s.rowsPerSec).toFixed(1)}x`);
}

if (values.paired === 'true' && oldStreaming) await pairedCheck(oldStreaming.engine, oldStreaming.nextSec);
await backend.dispose();

/** One step's cost: wall ms, CPU ms (this thread runs onnxruntime), decoder rows, generated tokens. */
async function timedStep(engine: StreamEngine, sec: number) {
  const rows0 = decoder.rows();
  const cpu0 = process.cpuUsage();
  const t = performance.now();
  const result = await engine.step({ startSec: sec, endSec: sec + 1, pixelValues: pixels, frames });
  const cpu = process.cpuUsage(cpu0);
  return { wallMs: performance.now() - t, cpuMs: (cpu.user + cpu.system) / 1000, rows: decoder.rows() - rows0, tokens: result.tokenIds.length, kvBytes: result.cache.bytes };
}

async function pairedCheck(old: StreamEngine, oldSec: number): Promise<void> {
  const fresh = makeEngine('streaming');
  await fresh.restart([]);
  for (let sec = 0; sec < 120; sec++) await fresh.step({ startSec: sec, endSec: sec + 1, pixelValues: pixels, frames });
  type Cost = Awaited<ReturnType<typeof timedStep>>;
  const a: Cost[] = [];
  const b: Cost[] = [];
  for (let i = 0; i < 120; i++) {
    // Alternate which goes first so neither always runs on a warmer cache.
    if (i % 2 === 0) { a.push(await timedStep(old, oldSec + i)); b.push(await timedStep(fresh, 120 + i)); }
    else { b.push(await timedStep(fresh, 120 + i)); a.push(await timedStep(old, oldSec + i)); }
  }
  const sum = (xs: Cost[], k: keyof Cost) => xs.reduce((t, x) => t + x[k], 0);
  const summary = (label: string, xs: Cost[]) => ({
    stream: label,
    p50Ms: +pct(xs.map((x) => x.wallMs), 0.5).toFixed(2),
    p99Ms: +pct(xs.map((x) => x.wallMs), 0.99).toFixed(2),
    cpuP50Ms: +pct(xs.map((x) => x.cpuMs), 0.5).toFixed(2),
    cpuMeanMs: +(sum(xs, 'cpuMs') / xs.length).toFixed(2),
    rowsPerSec: +(sum(xs, 'rows') / xs.length).toFixed(1),
    tokensPerSec: +(sum(xs, 'tokens') / xs.length).toFixed(2),
    kvBytes: xs.at(-1)!.kvBytes,
  });
  const sa = summary(`minute ${oldSec / 60}-${oldSec / 60 + 2}`, a);
  const sb = summary('minute 2-4', b);
  console.log('paired: the old stream and a fresh one alternate steps under the same machine load');
  console.table([sb, sa]);
  console.log(`paired streaming minute ${oldSec / 60} / minute 2: p50 ${(sa.p50Ms / sb.p50Ms).toFixed(3)}x, cpu p50 ${(sa.cpuP50Ms / sb.cpuP50Ms).toFixed(3)}x, cpu mean ${(sa.cpuMeanMs / sb.cpuMeanMs).toFixed(3)}x, decoder rows ${(sa.rowsPerSec / sb.rowsPerSec).toFixed(3)}x, tokens ${(sa.tokensPerSec / sb.tokensPerSec).toFixed(3)}x, KV bytes ${sa.kvBytes} vs ${sb.kvBytes}`);
}
