/**
 * Goals the commentator announced that did not happen: a `sightline eval commentary --out` report's goal lines
 * checked against the re-simulated truth. Goal recall says how many goals were called; this says what calling
 * them cost (a false goal also puts a wrong score on screen). A goal line at second t is right when a goal
 * happened at t or t - 1, the window recall uses (eval/commentary-metrics.ts).
 *
 *   npx tsx bench/goal-calls.ts REPORT/commentary.json [MORE.json ...] [--show]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { isSilent } from '../eval/commentary-metrics.js';
import { parseLine } from '../eval/event-parser.js';
import { simulateTruth } from '../src/synth/index.js';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { show: { type: 'boolean', default: false } } });
if (positionals.length === 0) throw new Error('usage: npx tsx bench/goal-calls.ts REPORT/commentary.json [MORE.json ...] [--show]');

for (const file of positionals) {
  const report = JSON.parse(readFileSync(file, 'utf8')) as {
    seconds: number;
    matches: Array<{ seed: number; segments: Array<{ start: number; text: string }> }>;
  };
  let goals = 0, called = 0, wrong = 0;
  for (const match of report.matches) {
    const { events } = simulateTruth(match.seed, report.seconds);
    const goalSeconds = new Set(events.filter((e) => e.type === 'goal').map((e) => e.second));
    goals += goalSeconds.size;
    for (const { start, text } of match.segments) {
      if (isSilent(text) || parseLine(text)?.type !== 'goal') continue;
      called++;
      const s = Math.round(start);
      if (goalSeconds.has(s) || goalSeconds.has(s - 1)) continue;
      wrong++;
      if (values.show) console.log(`  seed ${match.seed} second ${s}: "${text.trim()}"`);
    }
  }
  console.log(`${file}: ${goals} goals, ${called} goal lines, ${wrong} with no goal at s or s - 1`);
}
