/**
 * Runs every (video, policy) pair of a suite, `jobs` at a time on one EnginePool, into
 * `<outDir>/runs/<case>/<policy>.jsonl` (+ `.done.json` when complete).
 *
 * Interrupt and resume: rows are appended per second; a pair with a summary on disk is skipped on the
 * next run. A partial pair is run again from t0 (greedy decoding is deterministic): the seconds already
 * saved are not rewritten, their regenerated response is compared with the saved one and differences
 * are counted in the summary (`resumeMismatches`), and new seconds are appended. Re-running costs the
 * partial work again but keeps the files append-only and checks determinism on the way; a cache state
 * cannot be restored mid-stream without changing what the model saw.
 */
import { join } from 'node:path';
import { EnginePool } from '../../src/model/pool.js';
import { openModelSource } from '../../src/stream/index.js';
import { readSummary, RowWriter, writeSummary, type RunSummary } from './outputs.js';
import { runPolicy, type ChunkStream, type EvalPolicy } from './run-policy.js';
import { previousTextBefore, type StreamCase } from './suite.js';

export interface StreamsRunOptions {
  modelDir: string;
  cases: StreamCase[];
  policies: EvalPolicy[];
  /** Stream start (seconds of video); the reference before it is the previous text. */
  t0: number;
  resetEverySec?: number;
  outDir: string;
  /** Pairs run at once (default 4). */
  jobs?: number;
  /** Engine worker threads (default 2). */
  workers?: number;
  /** Chunks for a case; default: the case's video through ingest at the model's fps and frame size. */
  openChunks?(c: StreamCase, pool: EnginePool): ChunkStream;
  signal?: AbortSignal;
  onJob?(e: JobEvent): void;
}

export type JobEvent =
  | { type: 'start'; key: string; fromSec: number; totalSec: number }
  | { type: 'second'; key: string; endSec: number }
  | { type: 'done'; key: string; summary: RunSummary; skipped: boolean };

export interface PairResult {
  caseId: string;
  policy: EvalPolicy;
  rowsFile: string;
  summary: RunSummary;
}

export const runFiles = (outDir: string, caseId: string, policy: string) => ({
  rows: join(outDir, 'runs', caseId, `${policy}.jsonl`),
  summary: join(outDir, 'runs', caseId, `${policy}.done.json`),
});

/** One source for the whole run: a `resets` run hands consecutive slices of it to successive sessions. */
function ingestChunks(c: StreamCase, pool: EnginePool): ChunkStream {
  return openModelSource(c.video, pool.config.vision);
}

export async function runStreams(o: StreamsRunOptions): Promise<PairResult[]> {
  const pairs = o.cases.flatMap((c) => o.policies.map((policy) => ({ c, policy })));
  const results: PairResult[] = [];
  const todo = pairs.filter(({ c, policy }) => {
    const files = runFiles(o.outDir, c.id, policy);
    const summary = readSummary(files.summary);
    if (!summary) return true;
    results.push({ caseId: c.id, policy, rowsFile: files.rows, summary });
    o.onJob?.({ type: 'done', key: `${c.id}/${policy}`, summary, skipped: true });
    return false;
  });
  if (todo.length > 0) {
    const pool = await EnginePool.create({ modelDir: o.modelDir, workers: o.workers ?? 2 });
    // One failed pair stops the others between seconds; all are awaited before the pool goes.
    const stopAll = new AbortController();
    const signal = o.signal ? AbortSignal.any([o.signal, stopAll.signal]) : stopAll.signal;
    try {
      const run = async (): Promise<void> => {
        for (let next = todo.shift(); next && !signal.aborted; next = todo.shift()) {
          const { c, policy } = next;
          const key = `${c.id}/${policy}`;
          const files = runFiles(o.outDir, c.id, policy);
          const writer = new RowWriter(files.rows);
          const fromSec = Math.min(o.t0, c.endSec);
          o.onJob?.({ type: 'start', key, fromSec, totalSec: c.endSec - fromSec });
          const summary = await runPolicy({
            pool,
            id: key,
            policy,
            openChunks: () => (o.openChunks ?? ingestChunks)(c, pool),
            fromSec,
            toSec: c.endSec,
            previousTexts: previousTextBefore(c.content, fromSec),
            resetEverySec: o.resetEverySec,
            writer,
            signal,
            onSecond: (endSec) => o.onJob?.({ type: 'second', key, endSec }),
          });
          writeSummary(files.summary, summary);
          results.push({ caseId: c.id, policy, rowsFile: files.rows, summary });
          o.onJob?.({ type: 'done', key, summary, skipped: false });
        }
      };
      const settled = await Promise.allSettled(
        Array.from({ length: Math.max(1, Math.min(o.jobs ?? 4, todo.length)) }, () =>
          run().catch((err) => {
            stopAll.abort();
            throw err;
          }),
        ),
      );
      // The first real failure, not the "interrupted" of the pairs it stopped.
      const failed = settled.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as Error);
      const first = failed.find((e) => e.message !== 'interrupted') ?? failed[0];
      if (first) throw first;
    } finally {
      await pool.destroy();
    }
  }
  const order = (r: PairResult) => pairs.findIndex((p) => p.c.id === r.caseId && p.policy === r.policy);
  return results.sort((a, b) => order(a) - order(b));
}
