/**
 * The best event recall a commentator trained on our targets could reach: the eval's own metrics
 * (eval/commentary-metrics.ts) applied to the training targets themselves, as if a model said exactly
 * what it was taught. The figures behind the model card's "colliding lines" finding
 * (docs/commentator-model.md): with the priority rule of stages 1-6 a line that wants the same second as a
 * more important one is lost, which caps recall near 91%; the queue of stage 7 places every line.
 *
 *   npx tsx bench/target-ceiling.ts [--seeds 300000-300004] [--seconds 600] [--model DIR]
 *
 * It also prints how long the reference lines are in the model's tokens against the model's cap per second
 * (generation.maxTokensPerSecond): a line longer than the cap is cut off mid-sentence.
 *
 * The two placements mirror `lagged_commentary` in train/vlm/data.py (queue=False / queue=True), which
 * makes the training targets: each reference line moves to the first second whose sampled frames show its
 * headline event, and may stay there until the second after the reference (the eval's one-second grace).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { addCounts, countCommentary, isSilent, rates, ZERO_COUNTS } from '../eval/commentary-metrics.js';
import { SHIPPED_MODEL_DIR } from '../src/model/default-model.js';
import { TextTokenizer } from '../src/model/tokenizer.js';
import { headlineEvent, PRIORITY, SILENCE, simulateTruth, type MatchEvent } from '../src/synth/index.js';

const { values } = parseArgs({
  options: { seeds: { type: 'string', default: '300000-300004' }, seconds: { type: 'string', default: '600' }, model: { type: 'string', default: SHIPPED_MODEL_DIR } },
});
const [firstSeed, lastSeed] = values.seeds!.split('-').map(Number);
const seconds = Number(values.seconds);

/** The first ingest chunk whose frames (at s and s + 0.5) show an event at time t. */
const visibleSecond = (t: number): number => Math.floor(t + 0.5);

function placeLines(reference: string[], events: MatchEvent[], queue: boolean): string[] {
  const last = reference.length - 1;
  const lines: Array<{ deadline: number; first: number; priority: number; text: string }> = [];
  reference.forEach((text, s) => {
    const top = headlineEvent(events.filter((e) => e.second === s));
    if (isSilent(text) || !top) return;
    const first = Math.min(visibleSecond(top.t), last);
    lines.push({ deadline: queue ? Math.min(s + 1, last) : first, first, priority: PRIORITY[top.type], text });
  });
  if (queue) lines.sort((a, b) => a.deadline - b.deadline || a.first - b.first);
  const out = reference.map(() => SILENCE);
  const rank = reference.map(() => -1);
  for (const line of lines) {
    const slots = Array.from({ length: line.deadline - line.first + 1 }, (_, i) => line.first + i);
    const free = slots.find((m) => rank[m] < 0);
    const m = free ?? slots.reduce((low, x) => (rank[x] < rank[low] ? x : low));
    if (line.priority > rank[m]) [out[m], rank[m]] = [line.text, line.priority];
  }
  return out;
}

for (const queue of [false, true]) {
  let counts = { ...ZERO_COUNTS };
  for (let seed = firstSeed; seed <= lastSeed; seed++) {
    const { events, transcript } = simulateTruth(seed, seconds);
    const reference = transcript.content.map((row) => row[2]);
    const teams = [...new Set(events.map((e) => e.team).filter((t) => t !== ''))].slice(0, 2) as [string, string];
    const said = placeLines(reference, events, queue).map((text, start) => ({ start, text }));
    counts = addCounts(counts, countCommentary(events, reference, said, teams));
  }
  const r = rates(counts);
  const pct = (x: number) => (100 * x).toFixed(1);
  console.log(`${queue ? 'queue (stage 7)   ' : 'priority (1-6)    '} seeds ${values.seeds}: event recall ${pct(r.eventRecall)} (${counts.recalled} of ${counts.voiced}), precision ${pct(r.eventPrecision)}, silence ${pct(r.silenceAccuracy)}, goal recall ${pct(r.goalRecall)}`);
}

const tokenizer = new TextTokenizer(JSON.parse(readFileSync(join(values.model!, 'tokenizer.json'), 'utf8')));
const cap = JSON.parse(readFileSync(join(values.model!, 'config.json'), 'utf8')).generation.maxTokensPerSecond as number;
const lengths: number[] = [];
for (let seed = firstSeed; seed <= lastSeed; seed++) {
  for (const row of simulateTruth(seed, seconds).transcript.content) if (!isSilent(row[2])) lengths.push(tokenizer.encode(row[2]).length);
}
const over = (n: number) => lengths.filter((l) => l > n).length;
console.log(`reference lines: ${lengths.length}, longest ${Math.max(...lengths)} tokens; over 20 tokens: ${over(20)} (${((100 * over(20)) / lengths.length).toFixed(1)}%); over the model's cap of ${cap}: ${over(cap)}`);
