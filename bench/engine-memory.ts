/**
 * Does the engine alone hold its memory flat? N streams stepped through one EnginePool (as fast as they go, no
 * ingest, sessions or server), the process RSS and the caches' live tokens printed every 40 stream-seconds: the
 * part of a soak's RSS slope (bench/soak.ts) that the engine workers' caches and batches account for.
 * `--frames match` (default): 2 minutes of a held-out synthetic match, on which the model speaks and its text
 * sink and window fill as in a live match; `noise`: noise, to which it mostly answers with silence (so the
 * caches hardly grow: what this bench used before, and why it looked flat).
 *
 *   npx tsx bench/engine-memory.ts [--model DIR] [--streams 8] [--seconds 240] [--policy streaming] [--batching on|off] [--frames match|noise]
 */
import { parseArgs } from 'node:util';
import { cachePolicyName } from '../src/cli/options.js';
import { defaultModelDir } from '../src/model/default-model.js';
import { EnginePool } from '../src/model/pool.js';
import { sessionEngineOptions } from '../src/stream/session.js';
import { SyntheticBroadcast } from '../src/synth/index.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    streams: { type: 'string', default: '8' },
    seconds: { type: 'string', default: '240' },
    policy: { type: 'string', default: 'streaming' },
    batching: { type: 'string', default: 'on' },
    frames: { type: 'string', default: 'match' },
  },
});
if (!['on', 'off'].includes(values.batching!)) throw new Error(`--batching: "${values.batching}" is not on or off`);
const streams = Number(values.streams);
const seconds = Number(values.seconds);
const policy = cachePolicyName(values.policy!);
const pool = await EnginePool.create({ modelDir: values.model ?? defaultModelDir(), batching: values.batching === 'on' });
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
await Promise.all(ids.map((id) => pool.open(id, sessionEngineOptions(pool.config.generation, { id, policy }), [])));
console.log(`engine memory: ${streams} streams, ${seconds} s each, ${values.frames} frames, policy ${policy}, batching ${values.batching}, ${pool.streamsPerWorker.length} workers`);
const mb = (): number => Math.round(process.memoryUsage().rss / 2 ** 20);
const rss: number[] = [];
for (let sec = 0; sec < seconds; sec++) {
  const frames = (i: number) => ({ startSec: sec, endSec: sec + 1, rgb: clip[(sec + 7 * i) % clip.length].slice(), frames: 2, width: v.imageWidth, height: v.imageHeight });
  const results = await Promise.all(ids.map((id, i) => pool.step(id, frames(i))));
  if ((sec + 1) % 40 === 0) {
    rss.push(mb());
    // The caches fill (text sink, then text window) before they can be flat: their live tokens say when.
    const tokens = results.reduce((a, r) => a + r.cache.tokens, 0) / results.length;
    const text = results.reduce((a, r) => a + r.cache.previousTextTokens, 0) / results.length;
    console.log(`stream second ${sec + 1}: rss ${rss.at(-1)} MB, cache ${tokens.toFixed(0)} tokens per stream (${text.toFixed(0)} of previous text)`);
  }
}
await pool.destroy();
console.log(`rss first ${rss[0]} MB, max ${Math.max(...rss)} MB, last ${rss.at(-1)} MB (after the first sample: ${rss.at(-1)! - rss[0] >= 0 ? '+' : ''}${rss.at(-1)! - rss[0]} MB)`);
