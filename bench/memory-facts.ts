/**
 * The memory-fact metric (eval/memory-metrics.ts) on a saved `sightline eval commentary --out` report: its
 * segments re-scored against the re-simulated truth, so runs made before the metric existed can be read with it
 * (the world's truth is deterministic from the seed; nothing is rendered or run again).
 *
 *   npx tsx bench/memory-facts.ts REPORT/commentary.json [--world-version 2] [--show]
 *
 * `--show` prints every claim the model made with its verdict. A report written since the metric exists names
 * its world version; older ones are world 1.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { claimHolds, parseMemoryClaims } from '../eval/memory-claims.js';
import { addMemory, countMemory, zeroMemory } from '../eval/memory-metrics.js';
import { MEMORY_HEADER, memoryRow } from '../eval/memory-report.js';
import { simulateTruth, type WorldVersion } from '../src/synth/index.js';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { 'world-version': { type: 'string' }, show: { type: 'boolean', default: false } } });
if (positionals.length !== 1) throw new Error('usage: npx tsx bench/memory-facts.ts REPORT/commentary.json [--world-version 2] [--show]');
const report = JSON.parse(readFileSync(positionals[0], 'utf8')) as {
  seconds: number;
  world?: WorldVersion;
  matches: Array<{ seed: number; segments: Array<{ start: number; text: string }> }>;
};
const world = (Number(values['world-version'] ?? report.world ?? 1) as WorldVersion);
const rows: string[] = [];
let all = zeroMemory();
for (const m of report.matches) {
  const truth = simulateTruth(m.seed, report.seconds, { world });
  const teams: [string, string] = ['', ''];
  for (const e of truth.events) teams[e.teamIndex] ||= e.team;
  const reference = truth.transcript.content.map((r) => r[2]);
  const counts = countMemory(truth.facts, reference, m.segments, teams);
  all = addMemory(all, counts);
  rows.push(memoryRow(`seed ${m.seed}`, counts));
  if (values.show) {
    for (const { start, text } of m.segments) {
      const s = Math.round(start);
      for (const c of parseMemoryClaims(text)) {
        const right = [truth.facts[s], truth.facts[s - 1]].some((f) => f && claimHolds(c, f, teams));
        console.log(`  seed ${m.seed} second ${s} ${right ? 'right' : 'WRONG'} (truth ${JSON.stringify(truth.facts[s].score)}): "${text.trim()}"`);
      }
    }
  }
}
console.log([`${positionals[0]}: ${report.matches.length} matches of ${report.seconds} s, world version ${world}`, '', ...MEMORY_HEADER, memoryRow('**all**', all), ...rows].join('\n'));
