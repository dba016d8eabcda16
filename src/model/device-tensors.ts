/**
 * Rules for tensors that may live in GPU memory (onnxruntime-node 1.30, WebGPU; ../docs/gpu.md):
 * - a `gpu-buffer` tensor has no finalizer: whoever holds it disposes it. `own()` / `release()` keep a
 *   count of the tensors the runtime holds, so tests can check it returns to its baseline;
 * - a `gpu-buffer` tensor fed to a CPU session gives garbage without an error: `runGuarded()` refuses it;
 * - `getData()` on a `gpu-buffer` tensor aborts the process: nothing here (or anywhere in src/) calls it.
 *   Results come back by running a session whose outputs are on the CPU.
 */
import type * as ort from 'onnxruntime-node';
import { SightlineError } from '../errors.js';

const counts = { owned: 0, gpu: 0 };

/** Tensors held by the runtime now: all of them, and those in GPU memory. */
export function liveTensors(): { owned: number; gpu: number } {
  return { ...counts };
}

export function isGpuTensor(t: ort.Tensor): boolean {
  return t.location === 'gpu-buffer';
}

/** Take ownership of a tensor (a session output kept past the call). */
export function own<T extends ort.Tensor>(t: T): T {
  counts.owned++;
  if (isGpuTensor(t)) counts.gpu++;
  return t;
}

/** Give an owned tensor back: disposed now (frees GPU memory at once). */
export function release(t: ort.Tensor | undefined | null): void {
  if (!t) return;
  counts.owned--;
  if (isGpuTensor(t)) counts.gpu--;
  t.dispose();
}

/** A session and the provider it runs on (the guard needs to know which side of the bus it is). */
export interface GuardedSession {
  name: string;
  provider: string;
  session: ort.InferenceSession;
}

/** Run a session, refusing GPU tensors as inputs of a CPU session. */
export function runGuarded(s: GuardedSession, feeds: Record<string, ort.Tensor>, options?: ort.InferenceSession.RunOptions): Promise<ort.InferenceSession.ReturnType> {
  if (s.provider === 'cpu') {
    for (const [name, t] of Object.entries(feeds)) {
      if (isGpuTensor(t)) {
        throw new SightlineError('internal', `${s.name}: input ${name} is a GPU tensor but the session runs on the CPU provider (it would read garbage)`);
      }
    }
  }
  // The runtime's own failures (a lost or broken device, an allocation that failed) leave the session in an
  // unknown state: they get their own code, and the engine worker dies on them (engine.worker.ts).
  return (options ? s.session.run(feeds, options) : s.session.run(feeds)).catch((err: unknown) => {
    throw new SightlineError('device_error', `${s.name} on ${s.provider}: ${(err as Error).message}`, { cause: err });
  });
}
