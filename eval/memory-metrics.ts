/**
 * The memory-fact metric: every fact only memory gives that the model states (the score and who leads, a
 * scorer's tally, minutes since the last goal, a team's shots, who opened the scoring; eval/memory-claims.ts)
 * is checked against the world's truth at that second:
 * - *right* / *wrong*: a claim in the model's line at second s is right when it holds at s or s - 1 (the
 *   same one-second grace as the event metrics: the model's line may come a second after the event);
 * - *not said*: the reference line at s states a fact of a kind the model's lines at s and s + 1 do not;
 * - *accuracy* = right / (right + wrong), per kind and over all kinds.
 * Truth comes from the events file (factsFromEvents in src/synth/memory.ts), so it works on world 1 too,
 * where the overlay always shows the score but the commentary's score claims can still be wrong.
 */
import { FACT_KINDS, type FactKind, type MemoryFacts } from '../src/synth/index.js';
import type { Segment } from './commentary-metrics.js';
import { claimHolds, kindsOf, parseMemoryClaims } from './memory-claims.js';

export interface FactOutcome {
  right: number;
  wrong: number;
  /** Stated by the reference, not by the model at s or s + 1. */
  notSaid: number;
  /** Statements of this kind in the reference. */
  reference: number;
}

export type MemoryCounts = Record<FactKind, FactOutcome>;

export const zeroMemory = (): MemoryCounts => Object.fromEntries(FACT_KINDS.map((k) => [k, { right: 0, wrong: 0, notSaid: 0, reference: 0 }])) as MemoryCounts;

export function addMemory(x: MemoryCounts, y: MemoryCounts): MemoryCounts {
  const out = zeroMemory();
  for (const k of FACT_KINDS) for (const f of ['right', 'wrong', 'notSaid', 'reference'] as const) out[k][f] = x[k][f] + y[k][f];
  return out;
}

/** All kinds together. */
export function memoryTotal(c: MemoryCounts): FactOutcome {
  return FACT_KINDS.reduce((t, k) => ({ right: t.right + c[k].right, wrong: t.wrong + c[k].wrong, notSaid: t.notSaid + c[k].notSaid, reference: t.reference + c[k].reference }), { right: 0, wrong: 0, notSaid: 0, reference: 0 });
}

/** right / (right + wrong); NaN when nothing was stated. */
export const factAccuracy = (o: FactOutcome): number => (o.right + o.wrong === 0 ? NaN : o.right / (o.right + o.wrong));

/** Counts over seconds [fromSec, toSec); `facts[s]` is the truth at the end of second s. */
export function countMemory(facts: readonly MemoryFacts[], reference: readonly string[], model: readonly Segment[], teams: readonly [string, string], fromSec = 0, toSec = reference.length): MemoryCounts {
  const c = zeroMemory();
  const modelAt = new Map(model.map((m) => [Math.round(m.start), m.text]));
  const claimsAt = (s: number) => parseMemoryClaims(modelAt.get(s) ?? '');
  for (let s = fromSec; s < toSec; s++) {
    const truth = [facts[s], facts[s - 1]].filter((f) => f !== undefined);
    for (const claim of claimsAt(s)) {
      if (truth.some((f) => claimHolds(claim, f, teams))) c[claim.kind].right++;
      else c[claim.kind].wrong++;
    }
    const said = new Set<FactKind>([...kindsOf(claimsAt(s)), ...kindsOf(claimsAt(s + 1))]);
    for (const kind of kindsOf(parseMemoryClaims(reference[s] ?? ''))) {
      c[kind].reference++;
      if (!said.has(kind)) c[kind].notSaid++;
    }
  }
  return c;
}
