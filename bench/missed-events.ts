/**
 * What a commentator said around the events of one kind that it missed: the diagnosis behind the model card's
 * findings on colliding lines and missed goals (docs/commentator-model.md). Reads a `sightline eval
 * commentary --out` report's commentary.json; the events and reference lines are re-simulated from each seed.
 *
 *   npx tsx bench/missed-events.ts REPORT/commentary.json [--kind shot] [--show]
 *
 * Prints, for each missed event of the kind, what the model said at the event's second and the next (the
 * eval's window) as a tally ("silent / save(other team)": silent at s, a save by the other team at s + 1;
 * "unread": a line that names no event type and team the parser knows);
 * --show also prints the seconds around each miss with their events.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { isSilent } from '../eval/commentary-metrics.js';
import { parseLine } from '../eval/event-parser.js';
import { headlineEvent, simulateTruth, type MatchEvent } from '../src/synth/index.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { kind: { type: 'string', default: 'shot' }, show: { type: 'boolean', default: false } },
});
if (!positionals[0]) throw new Error('usage: npx tsx bench/missed-events.ts REPORT/commentary.json [--kind shot] [--show]');
const report = JSON.parse(readFileSync(positionals[0], 'utf8')) as {
  seconds: number;
  matches: Array<{ seed: number; segments: Array<{ start: number; text: string }> }>;
};

const describe = (e: MatchEvent) => `${e.type}${e.detail ? `/${e.detail}` : ''}:${e.team}`;
const tally = new Map<string, number>();
let missed = 0;
for (const match of report.matches) {
  const { events, transcript } = simulateTruth(match.seed, report.seconds);
  const said = new Map(match.segments.map((s) => [Math.round(s.start), s.text]));
  const eventsAt = (s: number) => events.filter((e) => e.second === s);
  for (let s = 0; s < report.seconds; s++) {
    const top = headlineEvent(eventsAt(s));
    if (isSilent(transcript.content[s]?.[2] ?? '') || top?.type !== values.kind) continue;
    // A spoken line the parser cannot place (no event type and team, e.g. "It's in!" alone) is 'unread', not silent.
    const near = [said.get(s), said.get(s + 1)].map((t) => (t === undefined || isSilent(t) ? 'silent' : parseLine(t) ?? 'unread'));
    if (near.some((p) => typeof p === 'object' && p.type === top.type && p.team === top.team)) continue;
    missed++;
    const key = near.map((p) => (typeof p === 'object' ? `${p.type}${p.team === top.team ? '' : '(other team)'}` : p)).join(' / ');
    tally.set(key, (tally.get(key) ?? 0) + 1);
    if (values.show) {
      console.log(`seed ${match.seed} second ${s}: ${describe(top)}, reference "${transcript.content[s][2].trim()}"`);
      for (let k = s - 1; k <= s + 2; k++) console.log(`  ${k}: [${eventsAt(k).map(describe).join(', ')}] model "${(said.get(k) ?? '').trim()}"`);
    }
  }
}
console.log(`missed ${values.kind} events: ${missed}; said at s / s + 1:`);
for (const [key, n] of [...tally].sort((a, b) => b[1] - a[1])) console.log(`  ${n}  ${key}`);
