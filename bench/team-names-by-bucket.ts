/**
 * Which teams a streams run's commentary names, per bucket of video time, against the two teams on the
 * pitch, and when each team's score first has two digits: the figures behind the model card's finding that
 * the commentator misnames the second team once a score reaches 10 (docs/commentator-model.md, "Long
 * streams").
 *
 *   npx tsx bench/team-names-by-bucket.ts REPORT_DIR [--policy streaming] [--bucket 600]
 *
 * REPORT_DIR is the --out folder of `sightline eval streams` on synthetic matches (runs/synth-SEED/POLICY.jsonl);
 * the events are re-simulated from the seed (truth only, no pixels), so the cached videos are not needed.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseLine } from '../eval/event-parser.js';
import { readRows } from '../eval/streams/outputs.js';
import { simulateTruth } from '../src/synth/index.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { policy: { type: 'string', default: 'streaming' }, bucket: { type: 'string', default: '600' } },
});
const reportDir = positionals[0];
if (!reportDir) throw new Error('usage: npx tsx bench/team-names-by-bucket.ts REPORT_DIR [--policy P] [--bucket S]');
const bucketSec = Number(values.bucket);

let wrongInTwoDigitBuckets = 0;
let wrongElsewhere = 0;
let bucketsElsewhere = 0;
for (const video of readdirSync(join(reportDir, 'runs')).filter((n) => /^synth-\d+$/.test(n)).sort()) {
  const rows = readRows(join(reportDir, 'runs', video, `${values.policy}.jsonl`));
  if (rows.length === 0) continue;
  const seed = Number(video.slice('synth-'.length));
  const seconds = Math.max(...rows.map((r) => r.end_time));
  const { events } = simulateTruth(seed, seconds);
  const teams = [...new Set(events.map((e) => e.team).filter((t) => t !== ''))].slice(0, 2);
  const twoDigitsAt = [0, 1].map((i) => events.find((e) => e.score[i] >= 10)?.t);
  console.log(`\n${video} (${teams.join(' v ')}): a score first has two digits at ${twoDigitsAt.map((t) => (t === undefined ? 'never' : `${t} s`)).join(' / ')}`);
  console.log('| bucket (min) | spoken lines | teams named | wrong team named | a two-digit score on the board |');
  console.log('| --- | --- | --- | --- | --- |');
  const first = Math.floor(rows[0].start_time / bucketSec);
  for (let b = first; b * bucketSec < seconds; b++) {
    const [from, to] = [b * bucketSec, (b + 1) * bucketSec];
    const named = new Map<string, number>();
    let spoken = 0;
    for (const r of rows) {
      if (r.start_time < from || r.start_time >= to || !r.response) continue;
      const parsed = parseLine(r.response);
      if (!parsed) continue;
      spoken++;
      named.set(parsed.team, (named.get(parsed.team) ?? 0) + 1);
    }
    const wrong = [...named].filter(([team]) => !teams.includes(team)).reduce((n, [, c]) => n + c, 0);
    // A score with two digits at any point of the bucket, before the match ends (a new match resets it).
    const twoDigits = events.some((e) => e.t >= from && e.t < to && (e.score[0] >= 10 || e.score[1] >= 10));
    if (twoDigits) wrongInTwoDigitBuckets += wrong;
    else {
      wrongElsewhere += wrong;
      bucketsElsewhere++;
    }
    const list = [...named].sort((x, y) => y[1] - x[1]).map(([t, c]) => `${t} ${c}`).join(', ');
    console.log(`| ${from / 60}-${to / 60} | ${spoken} | ${list} | ${wrong} | ${twoDigits ? 'yes' : 'no'} |`);
  }
}
console.log(`\nwrong team named: ${wrongInTwoDigitBuckets} times in buckets with a two-digit score, ${wrongElsewhere} times in the other ${bucketsElsewhere} buckets`);
