/**
 * Does the engine alone hold its memory flat? N streams stepped through one EnginePool (as fast as they go, no
 * ingest, sessions or server), the process RSS and the caches' live tokens printed every 40 stream-seconds: the
 * part of a soak's RSS slope (bench/soak.ts) that the engine workers' caches and batches account for.
 * `--frames match` (default): 2 minutes of a held-out synthetic match, on which the model speaks and its text
 * sink and window fill as in a live match; `noise`: noise, to which it mostly answers with silence (so the
 * caches hardly grow: what this bench used before, and why it looked flat).
 * `--full-start`: each stream opens with a transcript of ~1,500 tokens (a simulated match's lines), so its text
 * sink and window are full from the first second and any growth seen is not the caches filling.
 * `--free-running`: each stream steps on its own (a random 0-40 ms after its last second) instead of all in
 * lockstep, so the batches vary in size and make-up as in a server; samples follow stream 0.
 * `--probe`: the workers run bench/memory-probe.worker.ts, which collects garbage before answering; each sample
 * then also prints every worker's V8 heap used, external and ArrayBuffer bytes (what they still reference) and
 * their slope per 1,000 stream-seconds. `--snapshots 3,9`: heap snapshots of each worker at those samples.
 *
 *   npx tsx bench/engine-memory.ts [--model DIR] [--streams 8] [--seconds 240] [--policy streaming] [--batching on|off] [--frames match|noise]
 *                                  [--full-start] [--free-running] [--probe] [--snapshots 3,9] [--every 40]
 */
import { parseArgs } from 'node:util';
import { cachePolicyName } from '../src/cli/options.js';
import { defaultModelDir } from '../src/model/default-model.js';
import { EnginePool } from '../src/model/pool.js';
import { memoryParts } from './proc-memory.js';
import type { SecondResult } from '../src/model/stream-engine.js';
import { sessionEngineOptions } from '../src/stream/session.js';
import { SILENCE, simulateTruth, SyntheticBroadcast } from '../src/synth/index.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    streams: { type: 'string', default: '8' },
    seconds: { type: 'string', default: '240' },
    policy: { type: 'string', default: 'streaming' },
    batching: { type: 'string', default: 'on' },
    frames: { type: 'string', default: 'match' },
    'full-start': { type: 'boolean', default: false },
    probe: { type: 'boolean', default: false },
    snapshots: { type: 'string', default: '' },
    every: { type: 'string', default: '40' },
    'free-running': { type: 'boolean', default: false },
  },
});
if (!['on', 'off'].includes(values.batching!)) throw new Error(`--batching: "${values.batching}" is not on or off`);
const streams = Number(values.streams);
const seconds = Number(values.seconds);
const policy = cachePolicyName(values.policy!);
const every = Number(values.every);
const probeUrl = new URL(`./memory-probe.worker.ts?snapshots=${values.snapshots}`, import.meta.url);
const pool = await EnginePool.create({ modelDir: values.model ?? defaultModelDir(), batching: values.batching === 'on', ...(values.probe ? { workerUrl: probeUrl } : {}) });
const v = pool.config.vision;
if (!['match', 'noise'].includes(values.frames!)) throw new Error(`--frames: "${values.frames}" is not match or noise`);
const frameBytes = v.imageWidth * v.imageHeight * 3;
function matchClip(seed: number, seconds: number): Uint8Array[] {
  const broadcast = new SyntheticBroadcast(seed, { widthPx: v.imageWidth, heightPx: v.imageHeight, fps: 2 });
  const clip = Array.from({ length: seconds }, () => new Uint8Array(frameBytes * 2));
  for (let f = 0; f < seconds * 2; f++) broadcast.renderFrame(f, clip[f >> 1].subarray((f % 2) * frameBytes, (f % 2 + 1) * frameBytes));
  return clip;
}
const clip = values.frames === 'match' ? matchClip(300000, 120) : Array.from({ length: 16 }, (_, sec) => new Uint8Array(frameBytes * 2).map((_, i) => (i * 2654435761 + sec) >>> 24));
const ids = Array.from({ length: streams }, (_, i) => `s${i}`);
// A simulated match's lines (~1,500 tokens): more than the text sink and window hold, so they start full.
const previousTexts = values['full-start'] ? simulateTruth(300001, 900).transcript.content.map((row) => row[2]).filter((t) => t !== SILENCE) : [];
await Promise.all(ids.map((id) => pool.open(id, sessionEngineOptions(pool.config.generation, { id, policy }), previousTexts)));
console.log(
  `engine memory: ${streams} streams, ${seconds} s each, ${values.frames} frames, policy ${policy}, batching ${values.batching}, ${pool.streamsPerWorker.length} workers` +
    `${values['full-start'] ? `, starting with ${previousTexts.length} lines of previous text` : ''}${values.probe ? ', probed (figures after a GC)' : ''}`,
);
const mb = (): number => Math.round(process.memoryUsage().rss / 2 ** 20);
const rss: number[] = [];
const MB = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);
/** Per worker: [stream seconds, heap used, external, array buffers] at each sample. */
const probes = new Map<number, [number, number, number, number][]>();
/** `sec` seconds of each stream done: a worker has run sec x its streams stream-seconds. */
async function probe(sec: number): Promise<void> {
  for (const { worker, memory: m } of await pool.threadMemory()) {
    const list = probes.get(worker) ?? probes.set(worker, []).get(worker)!;
    list.push([sec * pool.streamsPerWorker[worker], m.heapUsed, m.external, m.arrayBuffers]);
    console.log(`  worker ${worker}: heap used ${MB(m.heapUsed)} MB, external ${MB(m.external)} MB, array buffers ${MB(m.arrayBuffers)} MB`);
  }
}
const frames = (i: number, sec: number) => ({ startSec: sec, endSec: sec + 1, rgb: clip[(sec + 7 * i) % clip.length].slice(), frames: 2, width: v.imageWidth, height: v.imageHeight });
/** After `sec` seconds of each stream (stream 0's, when free-running): RSS by kind, the caches' fill, the probe. */
async function sample(sec: number, results: SecondResult[]): Promise<void> {
  rss.push(mb());
  // The caches fill (text sink, then text window) before they can be flat: their live tokens say when.
  const tokens = results.reduce((a, r) => a + r.cache.tokens, 0) / results.length;
  const text = results.reduce((a, r) => a + r.cache.previousTextTokens, 0) / results.length;
  const parts = memoryParts(process.pid);
  const byKind = parts ? ` (malloc arenas ${MB(parts.mallocArenas)} in ${parts.arenaCount}, [heap] ${MB(parts.brkHeap)}, other anonymous ${MB(parts.otherAnon)})` : '';
  console.log(`stream second ${sec}: rss ${rss.at(-1)} MB${byKind}, cache ${tokens.toFixed(0)} tokens per stream (${text.toFixed(0)} of previous text)`);
  if (values.probe) await probe(sec);
}
if (values['free-running']) {
  // Each stream steps on its own, a random 0-40 ms after its last second: the batches the workers form vary
  // as in a server, where streams' seconds end at unrelated times (in lockstep every call has every stream).
  let seed = 7;
  const rand = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const last: SecondResult[] = [];
  await Promise.all(
    ids.map(async (id, i) => {
      for (let sec = 0; sec < seconds; sec++) {
        last[i] = await pool.step(id, frames(i, sec));
        if (i === 0 && (sec + 1) % every === 0) await sample(sec + 1, last.filter(Boolean));
        await new Promise((r) => setTimeout(r, rand() * 40));
      }
    }),
  );
} else {
  for (let sec = 0; sec < seconds; sec++) {
    const results = await Promise.all(ids.map((id, i) => pool.step(id, frames(i, sec))));
    if ((sec + 1) % every === 0) await sample(sec + 1, results);
  }
}
/** Least-squares slope of y over x. */
function slope(points: [number, number][]): number {
  const n = points.length;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  const sxy = points.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0);
  const sxx = points.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  return sxx === 0 ? 0 : sxy / sxx;
}
for (const [worker, list] of probes) {
  // From the second sample on: the first still has the workers' start-up in it.
  const tail = list.slice(1);
  if (tail.length < 2) continue;
  const per1000 = (k: 1 | 2 | 3): string => MB(1000 * slope(tail.map((p) => [p[0], p[k]])));
  console.log(`worker ${worker} (${pool.streamsPerWorker[worker]} streams) slope per 1,000 of its stream-seconds: heap used ${per1000(1)} MB, external ${per1000(2)} MB, array buffers ${per1000(3)} MB`);
}
await pool.destroy();
console.log(`rss first ${rss[0]} MB, max ${Math.max(...rss)} MB, last ${rss.at(-1)} MB (after the first sample: ${rss.at(-1)! - rss[0] >= 0 ? '+' : ''}${rss.at(-1)! - rss[0]} MB)`);
