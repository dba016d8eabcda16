/**
 * One worker thread seen from the main thread, for each worker src/model runs (engine.worker.ts through
 * pool.ts, encoder.worker.ts through encoder-client.ts):
 * - the worker posts `ready` once loaded, or `fatal` and exits: `ready` resolves or rejects once;
 * - each request gets a fresh `seq` and is answered exactly once, by a message with that `seq` (an
 *   `error` answer rejects it); at most `maxQueued` are in flight, more are refused with `rate_limited`;
 * - when the worker exits, `ready` (if pending) and everything in flight are rejected with one
 *   `worker_failed` error (or the `fatal` one), and later requests get the same error.
 * Messages of other types, or for a `seq` no longer waiting, are ignored. `memory()` asks the worker for its
 * own heap figures (thread-memory.ts), which every src/model worker answers at once.
 */
import { SightlineError, type ErrorCode } from '../errors.js';
import type { MemoryAnswer, ThreadMemory } from './thread-memory.js';
import { startWorker, type WorkerHandle, type WorkerIsolation } from './worker-start.js';

/** What every worker of src/model may post besides its own answers. */
type Posted = { type: string; seq?: number; code?: string; message?: string };

export interface WorkerChannelOptions {
  /** Names the worker in errors: "engine worker", "encoder worker". */
  name: string;
  /** Requests in flight before new ones are refused. */
  maxQueued: number;
  /** The worker exited (crashed, or terminate() asked it to); `failure` is what its requests were rejected with. */
  onExit?: (failure: SightlineError) => void;
  /** A thread (default) or a child process (worker-start.ts). */
  isolation?: WorkerIsolation;
}

export class WorkerChannel<Ready extends { type: 'ready' }, Answer extends { type: string; seq: number }> {
  /** The worker's `ready` message; rejected if it posts `fatal` or exits first. */
  readonly ready: Promise<Ready>;
  private readonly worker: WorkerHandle;
  private readonly pending = new Map<number, { resolve: (m: Answer) => void; reject: (e: Error) => void }>();
  private seq = 0;
  private failure: SightlineError | undefined;
  private terminating = false;

  constructor(url: URL, workerData: unknown, private readonly o: WorkerChannelOptions) {
    this.worker = startWorker(url, workerData, o.isolation);
    let markReady!: (m: Ready) => void;
    let markFailed!: (err: Error) => void;
    this.ready = new Promise<Ready>((res, rej) => ((markReady = res), (markFailed = rej)));
    this.ready.catch(() => undefined); // observed by whoever awaits it; never an unhandled rejection here
    let lastError: Error | undefined;
    this.worker.on('message', (m: Posted) => {
      if (m.type === 'ready') return markReady(m as Ready);
      if (m.type === 'fatal') return markFailed((lastError = new SightlineError(m.code as ErrorCode, m.message ?? 'worker failed to start')));
      const p = m.seq === undefined ? undefined : this.pending.get(m.seq);
      if (!p) return;
      this.pending.delete(m.seq!);
      if (m.type === 'error') p.reject(new SightlineError(m.code as ErrorCode, m.message ?? 'request failed'));
      else p.resolve(m as Answer);
    });
    this.worker.on('error', (err) => (lastError = err));
    this.worker.on('exit', (code) => {
      const cause = lastError?.message ?? `exit code ${code}`;
      this.failure ??= lastError instanceof SightlineError ? lastError : new SightlineError('worker_failed', `${o.name} failed: ${cause}`, { cause: lastError });
      markFailed(this.failure);
      for (const p of this.pending.values()) p.reject(this.failure);
      this.pending.clear();
      o.onExit?.(this.failure);
    });
  }

  /** The worker's process id when it runs as a child process. */
  get pid(): number | undefined {
    return this.worker.pid;
  }

  /** True once the worker has exited or is being terminated. */
  get dead(): boolean {
    return this.failure !== undefined || this.terminating;
  }

  /** Sends `msg` with a fresh seq; `transfer` buffers move to the worker (the caller must own them). */
  request<M extends { seq: number }>(msg: M, transfer: ArrayBuffer[] = []): Promise<Answer> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.pending.size >= this.o.maxQueued) return Promise.reject(new SightlineError('rate_limited', `${this.o.name} queue full (${this.o.maxQueued} requests)`));
    msg.seq = ++this.seq;
    return new Promise((resolve, reject) => {
      this.pending.set(msg.seq, { resolve, reject });
      this.worker.postMessage(msg, transfer);
    });
  }

  /** The worker's own V8 heap and external memory. */
  async memory(): Promise<ThreadMemory> {
    const answer = (await this.request({ type: 'memory', seq: 0 })) as unknown as MemoryAnswer;
    return answer.memory;
  }

  /** A message that expects no answer (a test hook). */
  post(msg: object): void {
    this.worker.postMessage(msg);
  }

  /** Stops the worker; what is in flight, and any later request, is rejected with `reason` when given. */
  async terminate(reason?: SightlineError): Promise<void> {
    this.terminating = true;
    if (reason) this.failure ??= reason;
    await this.worker.terminate();
  }
}
