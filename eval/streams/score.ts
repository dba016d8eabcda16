/**
 * Judges of a streams run, all offline and deterministic unless an LLM judge is configured:
 * - per second against the structured truth (synthetic matches): event recall / precision / F1, silence
 *   accuracy (commentary-metrics.ts), per bucket of video time;
 * - per window (100 s, Inf-Streams windowing from t0): BLEU-4, ROUGE-L, CIDEr-D against the reference,
 *   averaged over the windows of each bucket (preference.ts windowTextScore);
 * - pairwise preference `streaming` vs each baseline per window, both orders, win rates (metric judge,
 *   plus the LLM judge when configured).
 * Quality (the figure the goals use) is event F1 x 100 when every video has structured truth, else the
 * combined text score x 100 (mean of BLEU-4, ROUGE-L and CIDEr-D / 10). Seconds a policy did not produce
 * (`full` past its cap) are left out of its scores, and out of its pairwise windows.
 */
import { DEFAULT_CACHE_POLICY } from '../../src/cache/index.js';
import { addCounts, countCommentary, rates, ZERO_COUNTS, type CommentaryCounts, type Segment } from '../commentary-metrics.js';
import { addMemory, countMemory, zeroMemory, type MemoryCounts } from '../memory-metrics.js';
import { llmPreference, type LlmJudgeOptions } from '../llm-judge.js';
import { metricPreference, windowTextScore, type PreferenceResult } from '../preference.js';
import { buildCiderIdf } from '../text-metrics.js';
import { pairWindows, windowTexts, type TimedText } from '../windows.js';
import type { OutputRow } from './outputs.js';
import type { EvalPolicy } from './run-policy.js';
import type { StreamCase } from './suite.js';
import { buckets, earlyLateSplit, eventF1, mean, type Range } from './stream-time.js';

export interface ScoreOptions {
  t0: number;
  bucketSec: number;
  windowSec: number;
  llm?: LlmJudgeOptions;
}

export interface RunRows {
  caseId: string;
  policy: EvalPolicy;
  rows: OutputRow[];
  capSec: number | null;
}

export interface TextScores {
  windows: number;
  bleu4: number;
  rougeL: number;
  ciderD: number;
  combined: number;
}

export interface RangeScore {
  from: number;
  to: number;
  /** Seconds produced and scored. */
  seconds: number;
  counts?: CommentaryCounts;
  /** The memory-fact metric (synthetic matches only). */
  memory?: MemoryCounts;
  text: TextScores;
  /** NaN when nothing was produced in the range. */
  quality: number;
}

export interface PolicyScore {
  policy: EvalPolicy;
  overall: RangeScore;
  early: RangeScore;
  late: RangeScore;
  buckets: RangeScore[];
}

export interface CaseScore {
  caseId: string;
  policies: PolicyScore[];
}

export interface PairScore {
  a: EvalPolicy;
  b: EvalPolicy;
  judge: string;
  votesA: number;
  votesB: number;
  ties: number;
  noVote: number;
  windows: number;
  winRateA: number | null;
}

export interface StreamsScore {
  quality: 'event F1' | 'text score';
  split: number;
  cases: CaseScore[];
  /** All cases together. */
  overall: PolicyScore[];
  pairs: PairScore[];
  /** Per case, same order as `pairs` within a case. */
  casePairs: { caseId: string; pairs: PairScore[] }[];
}

interface Accum {
  seconds: number;
  counts: CommentaryCounts;
  memory: MemoryCounts;
  windowScores: { bleu4: number; rougeL: number; ciderD: number; combined: number }[];
}

const emptyAccum = (): Accum => ({ seconds: 0, counts: { ...ZERO_COUNTS }, memory: zeroMemory(), windowScores: [] });

function finish(range: Range, a: Accum, useEvents: boolean): RangeScore {
  const w = a.windowScores;
  const text: TextScores = {
    windows: w.length,
    bleu4: mean(w.map((x) => x.bleu4)),
    rougeL: mean(w.map((x) => x.rougeL)),
    ciderD: mean(w.map((x) => x.ciderD)),
    combined: mean(w.map((x) => x.combined)),
  };
  const quality = a.seconds === 0 ? NaN : 100 * (useEvents ? eventF1(a.counts) : text.combined);
  return { from: range.from, to: range.to, seconds: a.seconds, ...(useEvents ? { counts: a.counts, memory: a.memory } : {}), text, quality };
}

/** Produced seconds as timed texts (silence kept: the windowing drops it). */
function produced(rows: readonly OutputRow[]): TimedText[] {
  return rows.filter((r) => r.response !== null).map((r) => ({ start: r.start_time, end: r.end_time, text: r.response! }));
}

/** End of the produced part of a run: the cap for `full`, otherwise the end of the stream. */
const producedEnd = (run: RunRows, endSec: number): number => run.capSec ?? endSec;
/**
 * Windows are scored up to the cap of a capped run; a window cut by the natural end of the stream is
 * scored (it holds all there is), one cut by the cap is not (the policy stopped, the video did not).
 */
const windowLimit = (run: RunRows): number => run.capSec ?? Infinity;

/** Adds one run's seconds and windows in `range` to `acc`. */
function accumulate(acc: Accum, c: StreamCase, run: RunRows, range: Range, windowScores: Map<number, Accum['windowScores'][number]>): void {
  const end = Math.min(range.to, producedEnd(run, c.endSec));
  if (end <= range.from) return;
  const segments: Segment[] = run.rows.filter((r) => r.response !== null && r.start_time >= range.from && r.start_time < end).map((r) => ({ start: r.start_time, text: r.response! }));
  acc.seconds += segments.length;
  if (c.events && c.teams) {
    const reference: string[] = [];
    for (const [start, , text] of c.content) reference[Math.round(start)] = text;
    acc.counts = addCounts(acc.counts, countCommentary(c.events, reference, segments, c.teams, range.from, end));
    if (c.facts) acc.memory = addMemory(acc.memory, countMemory(c.facts, reference, segments, c.teams, range.from, end));
  }
  for (const [start, s] of windowScores) if (start >= range.from && start < end) acc.windowScores.push(s);
}

/** Text scores of each window of one run, keyed by window start; windows past the produced end are left out. */
function scoreWindows(c: StreamCase, run: RunRows, o: ScoreOptions): Map<number, Accum['windowScores'][number]> {
  const windows = windowTexts(produced(run.rows), c.content, { t0: o.t0, windowSec: o.windowSec }).filter((w) => w.end <= windowLimit(run));
  const idf = buildCiderIdf(windowTexts([], c.content, { t0: o.t0, windowSec: o.windowSec }).map((w) => w.reference));
  return new Map(windows.map((w) => [w.start, windowTextScore(w.candidate, w.reference, idf)]));
}

function pairScore(a: EvalPolicy, b: EvalPolicy, p: PreferenceResult, windows: number): PairScore {
  return { a, b, judge: p.judge, votesA: p.votesA, votesB: p.votesB, ties: p.ties, noVote: p.noVote, windows, winRateA: p.winRateA };
}

function addPair(x: PairScore, y: PairScore): PairScore {
  const votesA = x.votesA + y.votesA;
  const votesB = x.votesB + y.votesB;
  return { ...x, votesA, votesB, ties: x.ties + y.ties, noVote: x.noVote + y.noVote, windows: x.windows + y.windows, winRateA: votesA + votesB === 0 ? null : votesA / (votesA + votesB) };
}

/**
 * Pairs judged: `streaming` against every other policy run (the protocol's comparison), and the shipped
 * default policy (`refresh`) against the baselines (every policy but the two), so the report also says
 * how what ships fares.
 */
export function pairsToJudge(policies: readonly EvalPolicy[]): Array<[EvalPolicy, EvalPolicy]> {
  const out: Array<[EvalPolicy, EvalPolicy]> = [];
  if (policies.includes('streaming')) for (const b of policies) if (b !== 'streaming') out.push(['streaming', b]);
  if (DEFAULT_CACHE_POLICY !== 'streaming' && policies.includes(DEFAULT_CACHE_POLICY)) {
    for (const b of policies) if (b !== 'streaming' && b !== DEFAULT_CACHE_POLICY) out.push([DEFAULT_CACHE_POLICY, b]);
  }
  return out;
}

export async function scoreStreams(cases: readonly StreamCase[], runs: readonly RunRows[], policies: readonly EvalPolicy[], o: ScoreOptions): Promise<StreamsScore> {
  const useEvents = cases.every((c) => c.events && c.teams);
  const endMax = Math.max(...cases.map((c) => c.endSec));
  const split = earlyLateSplit(o.t0, endMax);
  const overallAcc = new Map<EvalPolicy, { overall: Accum; early: Accum; late: Accum; buckets: Map<number, Accum> }>();
  const caseScores: CaseScore[] = [];
  const casePairs: StreamsScore['casePairs'] = [];
  const runOf = (caseId: string, policy: EvalPolicy) => runs.find((r) => r.caseId === caseId && r.policy === policy);
  for (const c of cases) {
    const scores: PolicyScore[] = [];
    for (const policy of policies) {
      const run = runOf(c.id, policy);
      if (!run) continue;
      const ws = scoreWindows(c, run, o);
      const all = overallAcc.get(policy) ?? { overall: emptyAccum(), early: emptyAccum(), late: emptyAccum(), buckets: new Map() };
      overallAcc.set(policy, all);
      const one = (range: Range, shared: Accum): RangeScore => {
        const acc = emptyAccum();
        accumulate(acc, c, run, range, ws);
        accumulate(shared, c, run, range, ws);
        return finish(range, acc, useEvents);
      };
      const bs = buckets(o.t0, c.endSec, o.bucketSec).map((r) => {
        if (!all.buckets.has(r.from)) all.buckets.set(r.from, emptyAccum());
        return one(r, all.buckets.get(r.from)!);
      });
      scores.push({
        policy,
        overall: one({ from: o.t0, to: c.endSec }, all.overall),
        early: one({ from: o.t0, to: Math.min(split, c.endSec) }, all.early),
        late: one({ from: Math.min(split, c.endSec), to: c.endSec }, all.late),
        buckets: bs,
      });
    }
    caseScores.push({ caseId: c.id, policies: scores });
    const pairs: PairScore[] = [];
    for (const [a, b] of pairsToJudge(policies)) {
      const first = runOf(c.id, a);
      const other = runOf(c.id, b);
      if (!first || !other) continue;
      const end = Math.min(windowLimit(first), windowLimit(other));
      const windows = pairWindows(produced(first.rows), produced(other.rows), c.content, { t0: o.t0, windowSec: o.windowSec }).filter((w) => w.end <= end);
      pairs.push(pairScore(a, b, await metricPreference(windows), windows.length));
      if (o.llm) pairs.push(pairScore(a, b, await llmPreference(windows, o.llm), windows.length));
    }
    casePairs.push({ caseId: c.id, pairs });
  }
  const overall: PolicyScore[] = [...overallAcc].map(([policy, a]) => ({
    policy,
    overall: finish({ from: o.t0, to: endMax }, a.overall, useEvents),
    early: finish({ from: o.t0, to: split }, a.early, useEvents),
    late: finish({ from: split, to: endMax }, a.late, useEvents),
    buckets: [...a.buckets].sort((x, y) => x[0] - y[0]).map(([from, acc]) => finish({ from, to: buckets(from, endMax, o.bucketSec)[0].to }, acc, useEvents)),
  }));
  const pairs: PairScore[] = [];
  for (const cp of casePairs) {
    for (const p of cp.pairs) {
      const i = pairs.findIndex((q) => q.a === p.a && q.b === p.b && q.judge === p.judge);
      if (i < 0) pairs.push({ ...p });
      else pairs[i] = addPair(pairs[i], p);
    }
  }
  return { quality: useEvents ? 'event F1' : 'text score', split, cases: caseScores, overall, pairs, casePairs };
}

