/** Markdown for the memory-fact metric, shared by the `eval commentary` and `eval streams` reports. */
import { FACT_KINDS, type FactKind } from '../src/synth/index.js';
import { factAccuracy, memoryTotal, type FactOutcome, type MemoryCounts } from './memory-metrics.js';

const KIND_NAMES: Record<FactKind, string> = { score: 'score', tally: 'scorer tally', sinceGoal: 'since last goal', shots: 'team shots', opener: 'opener callback' };

const pct = (x: number): string => (Number.isNaN(x) ? 'n/a' : (100 * x).toFixed(1));

/** "12/15 (80.0)": right of stated, accuracy in percent; "-" when nothing was stated or referenced. */
function cell(o: FactOutcome): string {
  const stated = o.right + o.wrong;
  if (stated === 0 && o.reference === 0) return '-';
  return `${o.right}/${stated} (${pct(factAccuracy(o))}), ${o.notSaid} not said`;
}

export const MEMORY_HEADER = [
  `| | memory-fact accuracy | right | wrong | not said (of reference) | ${FACT_KINDS.map((k) => KIND_NAMES[k]).join(' | ')} |`,
  `| --- | --- | --- | --- | --- | ${FACT_KINDS.map(() => '---').join(' | ')} |`,
];

export function memoryRow(name: string, c: MemoryCounts): string {
  const t = memoryTotal(c);
  return `| ${name} | ${pct(factAccuracy(t))} | ${t.right} | ${t.wrong} | ${t.notSaid} of ${t.reference} | ${FACT_KINDS.map((k) => cell(c[k])).join(' | ')} |`;
}

export const MEMORY_DEFINITION =
  'Memory facts (eval/memory-metrics.ts): every score, scorer tally ("His 2nd of the match"), minutes since the last goal, team shot count ("Red\'s 5th shot") ' +
  'and opener callback the model states is right when it holds at that second or the one before; accuracy = right / (right + wrong), percent; ' +
  '*not said* = reference statements of a kind the model did not state at s or s + 1. Per kind: right/stated (accuracy), not said.';
