/**
 * The worker's side of worker-start.ts: its init data and a port to the main thread, the same whether it runs
 * as a thread (worker_threads' parentPort / workerData) or as a child process (the IPC channel; the first
 * message carries the init data). A process whose parent is gone exits: it must not outlive the server.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PROCESS_INIT } from './worker-start.js';

export interface ParentPort {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (message: any) => void): unknown; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export async function connectToParent<T>(): Promise<{ port: ParentPort; data: T }> {
  const thread = parentPort;
  if (thread) return { port: { postMessage: (m) => thread.postMessage(m), on: (_event, listener) => thread.on('message', listener) }, data: workerData as T };
  if (!process.send) throw new Error('a worker module must be started by worker-start.ts (no parent port, no IPC channel)');
  // Messages that arrive before the worker listens are kept, in order, not dropped.
  const early: unknown[] = [];
  let deliver: ((m: unknown) => void) | undefined;
  let init!: (data: T) => void;
  const data = new Promise<T>((resolve) => (init = resolve));
  process.on('message', (m: { type?: string; workerData?: T }) => {
    if (m?.type === PROCESS_INIT) return init(m.workerData as T);
    if (deliver) deliver(m);
    else early.push(m);
  });
  process.on('disconnect', () => process.exit(0));
  const port: ParentPort = {
    postMessage: (m) => {
      if (process.connected) process.send!(m as object);
    },
    on: (_event, listener) => {
      deliver = listener as (m: unknown) => void;
      for (const m of early.splice(0)) deliver(m);
    },
  };
  return { port, data: await data };
}
