/**
 * An indexing job in a child process of its own (index-job.process.ts), as the server runs POST /v1/videos:
 * decoding, the vision tower and the thumbnails take 150-250 MB that malloc keeps once freed, so in the server's
 * process that memory stayed for its whole life (issue 20) and a crash while indexing would take the live streams
 * down with it. A child returns all of it to the system when it exits, and its crash fails only its video.
 *
 *   const job = startIndexJob([file], { dbPath, modelDir, signal });
 *   const report = await job.report;   // after the clips are committed (the video is searchable)
 *   await job.exited;                  // after its ANN upkeep: the next writer may start
 *
 * The child writes the clip tables; the server's store sees them as it sees any other process's writes
 * (store-tables.ts: READ_CONSISTENCY_SEC).
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SightlineError, type ErrorCode } from '../errors.js';
import { childExecArgv } from '../model/index.js';
import type { IndexEvent, IndexReport } from './indexer.js';

/** What the child gets: the files and where the store and the encoder are. */
export interface IndexJobSpec {
  paths: string[];
  dbPath: string;
  modelDir: string;
  variant?: string;
}

/** The child's messages, in order: events, then `report` or `error`, then `upkeep-error` at most. */
export type IndexJobMessage =
  | { type: 'event'; event: IndexEvent }
  | { type: 'report'; report: IndexReport }
  | { type: 'error'; code: ErrorCode; message: string }
  | { type: 'upkeep-error'; message: string };

export interface IndexJobOptions extends Omit<IndexJobSpec, 'paths'> {
  /** Aborting asks the child to stop between clips and roll its video back; it is killed if it has not exited in STOP_GRACE_MS. */
  signal?: AbortSignal;
  onEvent?: (e: IndexEvent) => void;
  /** The ANN upkeep after the clips failed (the clips are in and searchable; queries fall back to exact search). */
  onUpkeepError?: (err: Error) => void;
}

export interface IndexJob {
  /** The child's process id. */
  pid: number | undefined;
  report: Promise<IndexReport>;
  /** Settles when the child has exited (never rejects). */
  exited: Promise<void>;
}

/** How long a stopped job may take to roll back before it is killed (a kill leaves the rollback to the next job). */
export const STOP_GRACE_MS = 10_000;

/** index-job.process.js next to the built module, index-job.process.ts next to the source under vitest/tsx. */
const CHILD_URL = new URL(`./index-job.process${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

export function startIndexJob(paths: string[], o: IndexJobOptions): IndexJob {
  const child = fork(fileURLToPath(CHILD_URL), [], { execArgv: childExecArgv(CHILD_URL), stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let settle!: { resolve: (r: IndexReport) => void; reject: (e: Error) => void };
  const report = new Promise<IndexReport>((resolve, reject) => (settle = { resolve, reject }));
  let answered = false;
  const answer = (fn: () => void): void => {
    if (!answered) fn();
    answered = true;
  };
  child.on('message', (m: IndexJobMessage) => {
    if (m.type === 'event') o.onEvent?.(m.event);
    else if (m.type === 'report') answer(() => settle.resolve(m.report));
    else if (m.type === 'error') answer(() => settle.reject(new SightlineError(m.code, m.message)));
    else if (m.type === 'upkeep-error') o.onUpkeepError?.(new Error(m.message));
  });
  child.on('error', (err) => answer(() => settle.reject(new SightlineError('worker_failed', `indexing process could not run: ${err.message}`, { cause: err }))));
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      // A video left half-written by a crash is rolled back by the next job (store-writer.ts: recover).
      const how = signal ? `was killed (${signal})` : `exited with code ${code}`;
      answer(() => settle.reject(new SightlineError('worker_failed', `indexing process ${how} before it finished; its video was not indexed`)));
      resolve();
    }),
  );
  const stop = (): void => {
    if (child.connected) child.send({ type: 'stop' });
    const kill = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    void exited.then(() => clearTimeout(kill));
  };
  if (o.signal?.aborted) stop();
  else o.signal?.addEventListener('abort', stop, { once: true });
  const spec: IndexJobSpec = { paths, dbPath: o.dbPath, modelDir: o.modelDir, ...(o.variant ? { variant: o.variant } : {}) };
  child.send({ type: 'job', spec });
  return { pid: child.pid, report, exited };
}
