/**
 * Median engine step time and the largest cache per bucket of video time, over all videos of a streams run:
 * whether a late rise in step time is a trend or one stretch (the model card's "Long streams" section reads
 * v5's flat-cost figure with it).
 *
 *   npx tsx bench/step-time-by-bucket.ts REPORT_DIR [--policy streaming] [--bucket 1200]
 *
 * REPORT_DIR is the --out folder of `sightline eval streams` (runs/VIDEO/POLICY.jsonl).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readRows } from '../eval/streams/outputs.js';
import { median } from '../eval/streams/stream-time.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { policy: { type: 'string', default: 'streaming' }, bucket: { type: 'string', default: '1200' } },
});
const reportDir = positionals[0];
if (!reportDir) throw new Error('usage: npx tsx bench/step-time-by-bucket.ts REPORT_DIR [--policy P] [--bucket S]');
const bucketSec = Number(values.bucket);

const steps = new Map<number, number[]>();
const kvTokens = new Map<number, number>();
for (const video of readdirSync(join(reportDir, 'runs')).sort()) {
  const file = join(reportDir, 'runs', video, `${values.policy}.jsonl`);
  if (!existsSync(file)) continue;
  for (const row of readRows(file)) {
    if (row.step_ms === undefined) continue;
    const b = Math.floor(row.start_time / bucketSec);
    if (!steps.has(b)) steps.set(b, []);
    steps.get(b)!.push(row.step_ms);
    kvTokens.set(b, Math.max(kvTokens.get(b) ?? 0, row.kv_tokens ?? 0));
  }
}
if (steps.size === 0) throw new Error(`${reportDir}: no ${values.policy} rows with step times under runs/`);
console.log(`| bucket (min) | seconds | step p50 ms | largest cache (tokens) |\n| --- | --- | --- | --- |`);
for (const b of [...steps.keys()].sort((x, y) => x - y)) {
  const xs = steps.get(b)!;
  const span = `${(b * bucketSec) / 60}-${((b + 1) * bucketSec) / 60}`;
  console.log(`| ${span} | ${xs.length} | ${median(xs).toFixed(1)} | ${kvTokens.get(b)} |`);
}
