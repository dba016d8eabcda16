/**
 * `eval streams` and `eval efficiency` end to end: run every (video, policy) pair (runner.ts), read the
 * per-second rows back, judge (score.ts, efficiency.ts), check the goals and write the report.
 */
import type { LlmJudgeOptions } from '../llm-judge.js';
import { costSeries, flatCheck, type CostSeries, type FlatCheck } from './efficiency.js';
import { checkGoals, type GoalResult } from './goals.js';
import { readRows } from './outputs.js';
import { writeEfficiencyReport, writeStreamsReport } from './report.js';
import type { EvalPolicy } from './run-policy.js';
import { runStreams, type JobEvent, type PairResult, type StreamsRunOptions } from './runner.js';
import { scoreStreams, type RunRows, type StreamsScore } from './score.js';
import { syntheticChunks } from './synthetic-source.js';
import type { StreamCase } from './suite.js';

export interface EvaluateStreamsOptions {
  modelDir: string;
  cases: StreamCase[];
  policies: EvalPolicy[];
  t0: number;
  outDir: string;
  /** Words for the report: what was streamed. */
  data: string;
  command: string;
  resetEverySec?: number;
  windowSec?: number;
  bucketSec?: number;
  jobs?: number;
  workers?: number;
  llm?: LlmJudgeOptions;
  signal?: AbortSignal;
  onJob?(e: JobEvent): void;
}

export interface EvaluateStreamsResult {
  score: StreamsScore;
  goals: GoalResult[];
  flats: FlatCheck[];
  costs: CostSeries[];
  report: string;
}

function loadRuns(pairs: readonly PairResult[]): RunRows[] {
  return pairs.map((p) => ({ caseId: p.caseId, policy: p.policy, rows: readRows(p.rowsFile), capSec: p.summary.capSec }));
}

/** Per policy: cost series over all videos, and the flatness check over each policy's produced part. */
function costs(runs: readonly RunRows[], policies: readonly EvalPolicy[], cases: readonly StreamCase[], t0: number): { costs: CostSeries[]; flats: FlatCheck[] } {
  const end = Math.max(...cases.map((c) => c.endSec));
  const of = (p: EvalPolicy) => runs.filter((r) => r.policy === p);
  const present = policies.filter((p) => of(p).length > 0);
  return {
    costs: present.map((p) => costSeries(p, of(p).map((r) => r.rows))),
    flats: present.map((p) => flatCheck(p, of(p).map((r) => r.rows), t0, Math.min(end, ...of(p).map((r) => r.capSec ?? end)))),
  };
}

export async function evaluateStreams(o: EvaluateStreamsOptions): Promise<EvaluateStreamsResult> {
  const started = performance.now();
  const pairs = await runStreams({ ...o } satisfies StreamsRunOptions);
  const runs = loadRuns(pairs);
  const windowSec = o.windowSec ?? 100;
  const bucketSec = o.bucketSec ?? 600;
  const score = await scoreStreams(o.cases, runs, o.policies, { t0: o.t0, bucketSec, windowSec, llm: o.llm });
  const { costs: series, flats } = costs(runs, o.policies, o.cases, o.t0);
  const hours = score.split === 3600;
  const earlyLabel = hours ? 'hour 1' : 'first half';
  const lateLabel = hours ? 'hour 2+' : 'second half';
  const goals = checkGoals({ overall: score.overall, pairs: score.pairs, flat: flats.find((f) => f.policy === 'streaming'), earlyLabel, lateLabel });
  const report = writeStreamsReport(o.outDir, {
    score,
    costs: series,
    flats,
    goals,
    bucketSec,
    windowSec,
    earlyLabel,
    lateLabel,
    meta: { model: o.modelDir, command: o.command, data: o.data, t0: o.t0, wallSec: (performance.now() - started) / 1000, summaries: pairs.map((p) => ({ caseId: p.caseId, summary: p.summary })) },
  });
  return { score, goals, flats, costs: series, report };
}

export interface EvaluateEfficiencyOptions {
  modelDir: string;
  seconds: number;
  policies: EvalPolicy[];
  outDir: string;
  seed: number;
  command: string;
  workers?: number;
  signal?: AbortSignal;
  onJob?(e: JobEvent): void;
}

/** Each policy alone (one after another) on the synthetic world rendered at the model's frame size. */
export async function evaluateEfficiency(o: EvaluateEfficiencyOptions): Promise<{ costs: CostSeries[]; flats: FlatCheck[]; report: string }> {
  const started = performance.now();
  const c: StreamCase = { id: `synth-${o.seed}`, video: `synthetic match ${o.seed}`, content: [], endSec: o.seconds };
  const pairs = await runStreams({
    modelDir: o.modelDir,
    cases: [c],
    policies: o.policies,
    t0: 0,
    outDir: o.outDir,
    jobs: 1,
    workers: o.workers ?? 1,
    openChunks: (_, pool) => {
      const v = pool.config.vision;
      return syntheticChunks(o.seed, { width: v.imageWidth, height: v.imageHeight, fps: v.framesPerSecond, seconds: o.seconds });
    },
    signal: o.signal,
    onJob: o.onJob,
  });
  const runs = loadRuns(pairs);
  const { costs: series, flats } = costs(runs, o.policies, [c], 0);
  const report = writeEfficiencyReport(o.outDir, {
    costs: series,
    flats,
    seconds: o.seconds,
    meta: { model: o.modelDir, command: o.command, data: `synthetic match ${o.seed} rendered at the model's frame size, no previous text`, t0: 0, wallSec: (performance.now() - started) / 1000, summaries: pairs.map((p) => ({ caseId: p.caseId, summary: p.summary })) },
  });
  return { costs: series, flats, report };
}
