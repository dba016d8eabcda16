/**
 * Start a worker from a module URL that is either built JS (dist) or TypeScript source (vitest, tsx), as a
 * thread (the default) or as a child process. Both speak the same messages (worker-port.ts on the other side).
 *
 * - Thread: Node 20 does not apply `--import tsx` hooks inside worker threads, so a .ts worker is started by a
 *   two-line bootstrap that registers tsx's ESM hooks in the worker and then imports the module.
 * - Process: one WebGPU device per process. Two WebGPU sessions in threads of one process crash onnxruntime
 *   1.30 (issue 19), and one host thread cannot keep an H200 busy, so a GPU pool of several workers forks
 *   them. Messages go over the IPC channel with structured clone (`serialization: 'advanced'`), copied
 *   rather than transferred.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

export type WorkerIsolation = 'thread' | 'process';

/** What worker-channel.ts needs of a worker, thread or process. */
export interface WorkerHandle {
  postMessage(message: unknown, transfer?: ArrayBuffer[]): void;
  terminate(): Promise<unknown>;
  /** `message` (the worker's message), `error` (an Error), `exit` (the exit code). */
  on(event: 'message' | 'error' | 'exit', listener: (arg: any) => void): unknown; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** The child's process id (process isolation only). */
  readonly pid?: number;
}

/** The first message a worker process gets: its workerData (worker-port.ts). */
export const PROCESS_INIT = 'sightline-worker-init';

function tsxEsmApi(): string {
  const pkgPath = createRequire(import.meta.url).resolve('tsx/package.json');
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { exports: Record<string, { import: { default: string } }> };
  return pathToFileURL(join(dirname(pkgPath), pkg.exports['./esm/api'].import.default)).href;
}

/**
 * A worker's young generation, fixed small: V8 grows a thread's new space as it allocates, up to 16 MB (two 8-MB
 * semi-spaces), slowly, so under live streams each engine worker's committed heap crept up for most of an hour
 * (bench/results/soak-quick.md, runs 6 and 7). At 2-MB semi-spaces the ceiling is reached at once. The main
 * thread gets the same from the command line (`--max-semi-space-size=2` in src/cli.ts and `npm start`).
 */
export const SEMI_SPACE_MB = 2;
/** V8's young generation is three semi-spaces' worth (two semi-spaces and the new large-object space). */
const THREAD_LIMITS = { maxYoungGenerationSizeMb: 3 * SEMI_SPACE_MB };

/** node's flags for a child process running the module at `url`: the small young generation, and tsx for a .ts source. */
export function childExecArgv(url: URL): string[] {
  return [`--max-semi-space-size=${SEMI_SPACE_MB}`, ...(url.pathname.endsWith('.ts') ? ['--import', 'tsx'] : [])];
}

export function startWorker(url: URL, workerData: unknown, isolation: WorkerIsolation = 'thread'): WorkerHandle {
  return isolation === 'process' ? new ProcessWorker(url, workerData) : startThread(url, workerData);
}

export function startThread(url: URL, workerData: unknown): Worker {
  if (!url.pathname.endsWith('.ts')) return new Worker(url, { workerData, resourceLimits: THREAD_LIMITS });
  const code = `import(${JSON.stringify(tsxEsmApi())}).then((m) => m.register()).then(() => import(${JSON.stringify(url.href)}));`;
  return new Worker(code, { eval: true, workerData, resourceLimits: THREAD_LIMITS });
}

/** A child process seen through the Worker interface: `message`, `error`, `exit`, postMessage, terminate. */
class ProcessWorker extends EventEmitter implements WorkerHandle {
  private readonly child: ChildProcess;
  private readonly exited: Promise<number>;

  constructor(url: URL, workerData: unknown) {
    super();
    this.child = fork(fileURLToPath(url), [], {
      serialization: 'advanced',
      execArgv: childExecArgv(url),
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
    this.child.on('message', (m) => this.emit('message', m));
    this.child.on('error', (err) => this.emit('error', err));
    void this.exited.then((code) => this.emit('exit', code));
    this.child.send({ type: PROCESS_INIT, workerData });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  postMessage(message: unknown): void {
    if (this.child.connected) this.child.send(message as object);
  }

  async terminate(): Promise<unknown> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    return this.exited;
  }
}
