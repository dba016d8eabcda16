/**
 * A thread's own memory, as its V8 isolate sees it: what /metrics shows per thread (main, each engine
 * worker, the encoder worker), so a growing process RSS can be placed. The process RSS itself is left
 * out (one figure for all threads; prom-client reports it).
 *
 * Every src/model worker answers a `memory` request at once, not queued behind its work (a worker busy in
 * a model call answers when the call returns); worker-channel.ts sends it.
 */
export interface ThreadMemory {
  /** V8 heap reserved and used. */
  heapTotal: number;
  heapUsed: number;
  /** C++ objects bound to JS objects (Buffers, onnxruntime tensors, ...), ArrayBuffers included. */
  external: number;
  arrayBuffers: number;
}

export type MemoryRequest = { type: 'memory'; seq: number };
export type MemoryAnswer = { type: 'memory'; seq: number; memory: ThreadMemory };

/** The calling thread's figures (process.memoryUsage() is per isolate but for rss). */
export function ownMemory(): ThreadMemory {
  const { heapTotal, heapUsed, external, arrayBuffers } = process.memoryUsage();
  return { heapTotal, heapUsed, external, arrayBuffers };
}

export const isMemoryRequest = (m: unknown): m is MemoryRequest => (m as { type?: unknown } | undefined)?.type === 'memory';

export const memoryAnswer = (m: MemoryRequest): MemoryAnswer => ({ type: 'memory', seq: m.seq, memory: ownMemory() });
