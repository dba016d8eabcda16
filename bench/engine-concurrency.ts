/**
 * How many real-time 2 fps streams fit on this machine with p99 end-of-second -> commentary <= 1 s.
 * Each level starts N sessions on one EnginePool (default one worker per core, 1 onnxruntime thread each);
 * every session gets one chunk per wall-clock second (staggered), for --seconds seconds.
 *
 *   npx tsx bench/engine-concurrency.ts [--model DIR] [--workers N] [--seconds 20] [--levels 1,4,16,32,64,96,128] [--policy refresh]
 *       [--batching on|off] [--device cpu|webgpu] [--frames noise|match] [--isolation thread|process]
 *       (batching off: each stream runs its own model calls, as before; webgpu: one worker with the K/V on the GPU
 *       unless --workers says more, each then a process of its own; it falls back to the CPU with a notice where
 *       there is no GPU)
 *
 * Sessions start with ~1,100 tokens of previous text so the cache is near its steady-state size (text
 * sink + window full) from the first second; a 5-second warm-up level runs first and is not reported.
 * p50/p99 are steady state: from 2 s after every stream of the level has had its first line; the seconds
 * before (the level's opens encoding their previous text all at once) give `startupSec` (until every stream
 * had a line) and `startupMaxMs` (their worst latency). Skipped seconds count the whole level.
 * The frames are noise by default, to which the model mostly answers with silence; `--frames match` plays a
 * held-out synthetic match, on which it speaks and `refresh` re-encodes as in the demo: run --seconds well past
 * the 16-s window for `refresh`.
 * Each level's line also has what admission measures (docs/engine.md, "Admission"): `busiestWorker` (the
 * highest busy fraction of any worker) and `costPerStream` (the device's mean cost per stream).
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { EnginePool } from '../src/model/pool.js';
import { SyntheticBroadcast } from '../src/synth/index.js';
import { startCommentary, type FrameChunk, type SessionEvent } from '../src/stream/index.js';
import { DEFAULT_CACHE_POLICY } from '../src/cache/index.js';
import { cachePolicyName } from '../src/cli/options.js';
import { processCpuSec } from './process-cpu.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: join(import.meta.dirname, '..', 'test', 'fixtures', 'models', 'tiny-random-2l') },
    workers: { type: 'string' },
    seconds: { type: 'string', default: '20' },
    levels: { type: 'string', default: '1,4,16,32,64,96,128' },
    policy: { type: 'string', default: DEFAULT_CACHE_POLICY },
    batching: { type: 'string', default: 'on' },
    device: { type: 'string', default: 'cpu' },
    frames: { type: 'string', default: 'noise' },
    isolation: { type: 'string' },
  },
});
const policy = cachePolicyName(values.policy!);
const seconds = Number(values.seconds);
if (!['on', 'off'].includes(values.batching!)) throw new Error(`--batching: "${values.batching}" is not on or off`);
if (values.device !== 'cpu' && values.device !== 'webgpu') throw new Error(`--device: "${values.device}" is not cpu or webgpu`);
if (values.isolation !== undefined && values.isolation !== 'thread' && values.isolation !== 'process') throw new Error(`--isolation: "${values.isolation}" is not thread or process`);
const pool = await EnginePool.create({
  modelDir: values.model!,
  workers: values.workers ? Number(values.workers) : undefined,
  batching: values.batching === 'on',
  device: values.device,
  isolation: values.isolation,
});
const workers = pool.streamsPerWorker.length;
const v = pool.config.vision;
const fps = Math.ceil(v.framesPerSecond);
const frameBytes = v.imageWidth * v.imageHeight * 3;

// The seconds the streams play, made once (making each stream's frames every second, a JS callback per byte, cost
// the main thread ~3.4 ms a stream-second on the VM, a third of a core at a hundred streams: the bench measuring
// itself). `noise`: 16 seconds of noise, to which the model mostly answers with silence; `match`: 2 minutes of a
// held-out synthetic match rendered at the model's size, on which it speaks (and `refresh` re-encodes) as it
// does in a live match, each stream starting at its own point of the clip.
if (values.frames !== 'noise' && values.frames !== 'match') throw new Error(`--frames: "${values.frames}" is not noise or match`);
const CLIP = values.frames === 'match' ? matchClip(300000, 120) : Array.from({ length: 16 }, (_, sec) => new Uint8Array(frameBytes * fps).map((_, i) => (i * 2654435761 + sec) >>> 24));

function matchClip(seed: number, seconds: number): Uint8Array[] {
  const broadcast = new SyntheticBroadcast(seed, { widthPx: v.imageWidth, heightPx: v.imageHeight, fps });
  const clip = Array.from({ length: seconds }, () => new Uint8Array(frameBytes * fps));
  for (let f = 0; f < seconds * fps; f++) broadcast.renderFrame(f, clip[Math.floor(f / fps)].subarray((f % fps) * frameBytes, (f % fps + 1) * frameBytes));
  return clip;
}

async function* realtimeChunks(offsetMs: number, seconds: number, stream: number): AsyncGenerator<FrameChunk> {
  const t0 = performance.now() + offsetMs;
  for (let sec = 0; sec < seconds; sec++) {
    const due = t0 + (sec + 1) * 1000; // a second is complete at its end
    await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
    const rgb = CLIP[(sec + 7 * stream) % CLIP.length];
    yield {
      startSec: sec,
      dropped: 0,
      frames: Array.from({ length: fps }, (_, f) => ({ ptsSec: sec + f / fps, width: v.imageWidth, height: v.imageHeight, rgb: rgb.subarray(f * frameBytes, (f + 1) * frameBytes) })),
    };
  }
}

const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? NaN;
const results: Record<string, number>[] = [];
let fits = 0;
const previousTexts = Array.from({ length: 120 }, (_, i) => ` Silva passes to Okafor, ${i} minutes played.`);
const levels = values.levels!.split(',').map(Number);
for (const [i, n] of [2, ...levels].entries()) {
  const warmup = i === 0;
  // Steady state starts 2 s after every stream of the level has had its first line: before that the level's
  // opens (each encoding ~1,100 tokens of previous text, all at once) delay the first seconds, reported apart.
  const latencies: number[] = [];
  const startup: number[] = [];
  const firstLine = new Set<string>();
  let steadyFrom = Infinity;
  let skipped = 0;
  let failed = 0;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const workerCpu = (): number => pool.workerProcessIds.reduce((sum, pid) => sum + processCpuSec(pid), 0);
  const workerCpu0 = workerCpu();
  // What admission sees (docs/engine.md, "Admission"): the busiest worker's measured busy fraction and the mean
  // measured cost per stream, sampled each second while every stream of the level is open and measured.
  let busiestWorker = 0;
  let costPerStream = 0;
  const sampler = setInterval(() => {
    const snap = pool.loadSnapshot();
    if (!snap.measured || snap.workers.reduce((a, w) => a + w.streams, 0) < n) return;
    busiestWorker = Math.max(busiestWorker, ...snap.workers.map((w) => w.busy));
    costPerStream = snap.expectedCost;
  }, 1000);
  const sessions = Array.from({ length: n }, (_, i) => {
    const onEvent = (e: SessionEvent): void => {
      if (e.type === 'commentary') {
        (performance.now() >= steadyFrom ? latencies : startup).push(e.latencyMs);
        firstLine.add(e.stream);
        if (firstLine.size === n && steadyFrom === Infinity) steadyFrom = performance.now() + 2000;
      }
      if (e.type === 'status' && e.state === 'ended') skipped += e.skippedSeconds;
      if (e.type === 'status' && e.state === 'failed') failed++;
    };
    const source = realtimeChunks((1000 * i) / n, warmup ? 5 : seconds, i);
    return startCommentary(source, pool, { id: `s${i}`, skip: 'oldest', maxBacklogSec: 1, previousTexts, policy, onEvent }).done;
  });
  await Promise.all(sessions);
  clearInterval(sampler);
  const cpu = process.cpuUsage(cpu0);
  // cores: CPU seconds of this process (main thread + engine worker threads) and of any worker processes per wall
  // second of the level.
  const cpuMs = (cpu.user + cpu.system) / 1e3 + 1000 * (workerCpu() - workerCpu0);
  const cores = Math.round((cpuMs / (performance.now() - t0)) * 100) / 100;
  const row = {
    streams: n,
    p50Ms: pct(latencies, 0.5),
    p99Ms: pct(latencies, 0.99),
    skippedSeconds: skipped,
    failedStreams: failed,
    segments: latencies.length,
    startupSec: +((steadyFrom - 2000 - t0) / 1000).toFixed(1),
    startupMaxMs: Math.max(...startup),
    cores,
    busiestWorker: +busiestWorker.toFixed(2),
    costPerStream: +costPerStream.toFixed(3),
  };
  if (warmup) continue;
  results.push(row);
  console.error(JSON.stringify(row));
  // A level passes only with steady-state lines from it, every stream to its end, p99 <= 1 s and nothing skipped.
  if (latencies.length === 0 || failed > 0 || row.p99Ms > 1000 || skipped > 0) break;
  fits = n;
}
await pool.destroy();
console.log(`model ${pool.config.name}, ${workers} workers on ${pool.device.provider}, ${values.frames} frames, policy ${policy}, ${seconds} s per level, real-time ${fps} fps streams`);
console.table(results);
console.log(`streams that fit with steady-state p99 <= 1 s and no skipped seconds: ${fits} (largest level tried that passed)`);
