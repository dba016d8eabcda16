/**
 * Does the engine alone hold its memory flat? N streams stepped through one EnginePool (noise frames, as fast as
 * they go, no ingest, sessions or server), the process RSS printed every 40 stream-seconds: the part of a soak's
 * RSS slope (bench/soak.ts) that the engine workers' caches and batches account for.
 *
 *   npx tsx bench/engine-memory.ts [--model DIR] [--streams 8] [--seconds 240] [--policy streaming] [--batching on|off]
 */
import { parseArgs } from 'node:util';
import { cachePolicyName } from '../src/cli/options.js';
import { defaultModelDir } from '../src/model/default-model.js';
import { EnginePool } from '../src/model/pool.js';
import { sessionEngineOptions } from '../src/stream/session.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    streams: { type: 'string', default: '8' },
    seconds: { type: 'string', default: '240' },
    policy: { type: 'string', default: 'streaming' },
    batching: { type: 'string', default: 'on' },
  },
});
if (!['on', 'off'].includes(values.batching!)) throw new Error(`--batching: "${values.batching}" is not on or off`);
const streams = Number(values.streams);
const seconds = Number(values.seconds);
const policy = cachePolicyName(values.policy!);
const pool = await EnginePool.create({ modelDir: values.model ?? defaultModelDir(), batching: values.batching === 'on' });
const v = pool.config.vision;
const noise = Array.from({ length: 16 }, (_, sec) => new Uint8Array(v.imageWidth * v.imageHeight * 3 * 2).map((_, i) => (i * 2654435761 + sec) >>> 24));
const ids = Array.from({ length: streams }, (_, i) => `s${i}`);
await Promise.all(ids.map((id) => pool.open(id, sessionEngineOptions(pool.config.generation, { id, policy }), [])));
console.log(`engine memory: ${streams} streams, ${seconds} s each, policy ${policy}, batching ${values.batching}, ${pool.streamsPerWorker.length} workers`);
const mb = (): number => Math.round(process.memoryUsage().rss / 2 ** 20);
const rss: number[] = [];
for (let sec = 0; sec < seconds; sec++) {
  const frames = (i: number) => ({ startSec: sec, endSec: sec + 1, rgb: noise[(sec + i) % 16].slice(), frames: 2, width: v.imageWidth, height: v.imageHeight });
  await Promise.all(ids.map((id, i) => pool.step(id, frames(i))));
  if ((sec + 1) % 40 === 0) {
    rss.push(mb());
    console.log(`stream second ${sec + 1}: rss ${rss.at(-1)} MB`);
  }
}
await pool.destroy();
console.log(`rss first ${rss[0]} MB, max ${Math.max(...rss)} MB, last ${rss.at(-1)} MB (after the first sample: ${rss.at(-1)! - rss[0] >= 0 ? '+' : ''}${rss.at(-1)! - rss[0]} MB)`);
