/**
 * Per-window pairwise preference A vs B, as in Inf-Streams-Eval. Definitions:
 * - Every window is judged twice: order AB (A shown first) and order BA (B shown first). A judge answers
 *   positionally ("first" shown = "A", second = "B", or "tie"); the answer is mapped back to the system,
 *   so one window gives up to two votes. An answer the judge could not give (malformed) is no vote and is
 *   listed in `malformed`.
 * - Win rate of A = votes A / (votes A + votes B); ties and missing votes are not in the denominator;
 *   `null` when there are no decisive votes.
 * - The built-in judge ({@link metricJudge}) is offline and deterministic: each text's score against the
 *   window's reference is the mean of BLEU-4 (sentence-level, i.e. the corpus formula on one pair),
 *   ROUGE-L F (beta 1.2) and CIDEr-D / 10 (df over the references of all windows being judged), all in
 *   0..1; the higher score wins, equal scores (within 1e-12) tie. Since it is symmetric, both orders give
 *   the same vote; the two-order structure is kept so an LLM judge (llm-judge.ts) plugs in unchanged.
 */
import { bleu4, buildCiderIdf, ciderDPair, rougeLPair, type CiderIdf } from './text-metrics.js';
import type { PairWindow } from './windows.js';

/** A positional verdict: "A" = the text shown first, "B" = the one shown second. */
export type Verdict = 'A' | 'B' | 'tie';
export type Order = 'AB' | 'BA';

export interface JudgeRequest {
  /** Index of the window in the list being judged. */
  index: number;
  window: PairWindow;
  order: Order;
  reference: string;
  /** Text shown as "A" (system A's in order AB, system B's in order BA). */
  first: string;
  /** Text shown as "B". */
  second: string;
}

export interface JudgeAnswer {
  /** null: no usable answer (malformed); counts as no vote. */
  verdict: Verdict | null;
  /** The judge's raw answer, when it has one (LLM text). */
  raw?: string;
}

export interface PairJudge {
  readonly name: string;
  judge(req: JudgeRequest): Promise<JudgeAnswer>;
}

export interface OrderVote {
  order: Order;
  /** Positional verdict as the judge gave it. */
  verdict: Verdict | null;
  /** The verdict mapped to systems: "A" = system A. */
  vote: 'A' | 'B' | 'tie' | null;
  raw?: string;
}

export interface WindowPreference {
  start: number;
  end: number;
  votes: [OrderVote, OrderVote];
}

export interface MalformedAnswer {
  index: number;
  start: number;
  end: number;
  order: Order;
  raw?: string;
}

export interface PreferenceResult {
  judge: string;
  windows: WindowPreference[];
  votesA: number;
  votesB: number;
  ties: number;
  /** Orders that gave no vote (malformed answers). */
  noVote: number;
  /** votesA / (votesA + votesB); null when there is no decisive vote. */
  winRateA: number | null;
  malformed: MalformedAnswer[];
}

/** Maps a positional verdict to the system it favours. */
export function toSystemVote(order: Order, verdict: Verdict | null): 'A' | 'B' | 'tie' | null {
  if (verdict === null || verdict === 'tie') return verdict;
  if (order === 'AB') return verdict;
  return verdict === 'A' ? 'B' : 'A';
}

/** votesA / (votesA + votesB), or null without decisive votes. */
export function winRate(votesA: number, votesB: number): number | null {
  return votesA + votesB === 0 ? null : votesA / (votesA + votesB);
}

/** Asks `judge` about every window in both orders (AB then BA, windows in order, one at a time) and counts votes. */
export async function comparePairwise(windows: readonly PairWindow[], judge: PairJudge): Promise<PreferenceResult> {
  const result: PreferenceResult = { judge: judge.name, windows: [], votesA: 0, votesB: 0, ties: 0, noVote: 0, winRateA: null, malformed: [] };
  for (let index = 0; index < windows.length; index++) {
    const window = windows[index];
    const votes: OrderVote[] = [];
    for (const order of ['AB', 'BA'] as const) {
      const [first, second] = order === 'AB' ? [window.a, window.b] : [window.b, window.a];
      const answer = await judge.judge({ index, window, order, reference: window.reference, first, second });
      const vote = toSystemVote(order, answer.verdict);
      votes.push({ order, verdict: answer.verdict, vote, ...(answer.raw !== undefined ? { raw: answer.raw } : {}) });
      if (vote === 'A') result.votesA++;
      else if (vote === 'B') result.votesB++;
      else if (vote === 'tie') result.ties++;
      else {
        result.noVote++;
        result.malformed.push({ index, start: window.start, end: window.end, order, ...(answer.raw !== undefined ? { raw: answer.raw } : {}) });
      }
    }
    result.windows.push({ start: window.start, end: window.end, votes: votes as [OrderVote, OrderVote] });
  }
  result.winRateA = winRate(result.votesA, result.votesB);
  return result;
}

export interface WindowTextScore {
  bleu4: number;
  rougeL: number;
  /** CIDEr-D on its 0..10 scale. */
  ciderD: number;
  /** (bleu4 + rougeL + ciderD / 10) / 3, in 0..1. */
  combined: number;
}

/** Scores one text against a window's reference (see the module comment for `combined`). */
export function windowTextScore(candidate: string, reference: string, idf: CiderIdf): WindowTextScore {
  const b = bleu4([candidate], [reference]);
  const r = rougeLPair(candidate, reference);
  const c = ciderDPair(candidate, reference, idf);
  return { bleu4: b, rougeL: r, ciderD: c, combined: (b + r + c / 10) / 3 };
}

const TIE_EPS = 1e-12;

/** The built-in deterministic judge; df for CIDEr-D over the references of `windows`. */
export function metricJudge(windows: readonly PairWindow[]): PairJudge {
  const idf = buildCiderIdf(windows.map((w) => w.reference));
  return {
    name: 'metrics',
    async judge(req) {
      const first = windowTextScore(req.first, req.reference, idf).combined;
      const second = windowTextScore(req.second, req.reference, idf).combined;
      if (Math.abs(first - second) <= TIE_EPS) return { verdict: 'tie' };
      return { verdict: first > second ? 'A' : 'B' };
    },
  };
}

/** Pairwise preference of A vs B by the built-in metric judge. */
export function metricPreference(windows: readonly PairWindow[]): Promise<PreferenceResult> {
  return comparePairwise(windows, metricJudge(windows));
}
