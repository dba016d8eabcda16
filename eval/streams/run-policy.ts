/**
 * One (video, policy) run of the Inf-Streams protocol through the live service's own code: chunks from
 * the source (src/stream's openModelSource, or the synthetic world) -> startCommentary -> EnginePool, greedy.
 * The stream starts at `fromSec` with the previous text given (the reference before t0), runs as fast as
 * the machine allows and writes one row per second (outputs.ts).
 *
 * Policies: every cache policy the engine supports (CACHE_POLICIES: `streaming`, `refresh`, `window`, `full`,
 * `recompute`, ...) runs as one continuous session; `resets` is `streaming` with the session (and so its KV cache) restarted every `resetEverySec` seconds
 * of stream time: the first session starts with the previous text, later ones from an empty cache.
 * `full` runs until its cache does not fit (the engine's `cache_full`); the seconds after are written as
 * not produced (`response: null`) and the cap is recorded in the run summary.
 */
import { bytesPerToken, CACHE_POLICIES, DEFAULT_CACHE_POLICY, type CachePolicyName } from '../../src/cache/index.js';
import { SightlineError } from '../../src/errors.js';
import type { EnginePool } from '../../src/model/pool.js';
import type { SecondResult } from '../../src/model/stream-engine.js';
import { startCommentary, type EngineClient, type FrameChunk, type RunningCommentary, type SessionEvent } from '../../src/stream/index.js';
import type { RowWriter, RunSummary } from './outputs.js';

export type EvalPolicy = CachePolicyName | 'resets';
/** Derived from the cache's own list, so a policy the engine gains (or ships as default) can be evaluated. */
export const EVAL_POLICIES: readonly EvalPolicy[] = [...CACHE_POLICIES, 'resets'];

/** A default policy list plus the shipped default policy, so a default run always measures what ships. */
export function withShippedPolicy(policies: readonly EvalPolicy[]): EvalPolicy[] {
  return [...new Set<EvalPolicy>([...policies, DEFAULT_CACHE_POLICY])];
}

/** Chunks in stream order; `close()` stops the producer (kills ffmpeg). */
export interface ChunkStream extends AsyncIterable<FrameChunk> {
  close(): Promise<void>;
}

export interface PolicyRunOptions {
  pool: EnginePool;
  /** Session id prefix, unique among concurrent runs. */
  id: string;
  policy: EvalPolicy;
  openChunks(): ChunkStream;
  /** Seconds [fromSec, toSec) of the source are streamed; earlier chunks are read and dropped. */
  fromSec: number;
  toSec: number;
  previousTexts: string[];
  /** `resets`: restart period in stream seconds (default 100). */
  resetEverySec?: number;
  writer: RowWriter;
  signal?: AbortSignal;
  /** After each second written (or regenerated on resume). */
  onSecond?(endSec: number): void;
}

/** Pulls chunks one at a time and hands out consecutive slices of the stream to successive sessions. */
class ChunkCursor {
  private readonly it: AsyncIterator<FrameChunk>;
  private held: FrameChunk | undefined;
  /** The source ended (or passed toSec): no later slice will get a chunk. */
  exhausted = false;

  constructor(source: AsyncIterable<FrameChunk>, private readonly fromSec: number, private readonly toSec: number) {
    this.it = source[Symbol.asyncIterator]();
  }

  async next(): Promise<FrameChunk | undefined> {
    if (this.held) {
      const c = this.held;
      this.held = undefined;
      return c;
    }
    for (;;) {
      if (this.exhausted) return undefined;
      const r = await this.it.next();
      if (r.done || r.value.startSec >= this.toSec) {
        this.exhausted = true;
        return undefined;
      }
      if (r.value.startSec >= this.fromSec) return r.value;
    }
  }

  get hasHeld(): boolean {
    return this.held !== undefined;
  }

  /** The chunks before `endSec`; the first chunk at or after it stays for the next slice. */
  until(endSec: number): AsyncIterable<FrameChunk> {
    return {
      [Symbol.asyncIterator]: async function* (this: ChunkCursor) {
        for (let c = await this.next(); c; c = await this.next()) {
          if (c.startSec >= endSec) {
            this.held = c;
            return;
          }
          yield c;
        }
      }.bind(this),
    };
  }
}

/** The pool as a session sees it, keeping each step's result for the efficiency record. */
function recordingClient(pool: EnginePool, results: Map<number, SecondResult>): EngineClient {
  return {
    config: pool.config,
    open: (id, options, previous) => pool.open(id, options, previous),
    setPrompt: (id, prompt) => pool.setPrompt(id, prompt),
    close: (id) => pool.close(id),
    step: async (id, frames) => {
      const r = await pool.step(id, frames);
      results.set(r.startSec, r);
      return r;
    },
  };
}

export async function runPolicy(o: PolicyRunOptions): Promise<RunSummary> {
  const started = performance.now();
  const source = o.openChunks();
  const cursor = new ChunkCursor(source, o.fromSec, o.toSec);
  const perToken = bytesPerToken(o.pool.config.decoder);
  const period = o.policy === 'resets' ? (o.resetEverySec ?? 100) : Infinity;
  const cachePolicy: CachePolicyName = o.policy === 'resets' ? 'streaming' : o.policy;
  let capSec: number | null = null;
  let lastEnd = o.fromSec;
  let resets = 0;
  let commentary: RunningCommentary | undefined;
  const onAbort = (): void => {
    void commentary?.stop();
    void source.close();
  };
  o.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for (let segStart = o.fromSec; segStart < o.toSec && capSec === null && !o.signal?.aborted; segStart += period) {
      const results = new Map<number, SecondResult>();
      const failures: string[] = [];
      const id = `${o.id}-${o.policy}${period === Infinity ? '' : `-${resets}`}`;
      commentary = startCommentary(cursor.until(Math.min(segStart + period, o.toSec)), recordingClient(o.pool, results), {
        id,
        policy: cachePolicy,
        // Only the first session of a run starts from the reference; a reset loses everything.
        previousTexts: segStart === o.fromSec && cachePolicy !== 'window' ? o.previousTexts : [],
        sampling: { temperature: 0 },
        skip: 'none',
        onEvent: (e: SessionEvent) => {
          if (e.type === 'commentary') {
            const r = results.get(e.start);
            results.delete(e.start);
            o.writer.write({
              start_time: e.start,
              end_time: e.end,
              response: e.text,
              step_ms: r ? Math.round(r.timings.totalMs * 100) / 100 : undefined,
              kv_tokens: r?.cache.tokens,
              kv_bytes: r ? r.cache.tokens * perToken : undefined,
              rss_bytes: process.memoryUsage.rss(),
            });
            lastEnd = e.end;
            o.onSecond?.(e.end);
          } else if (e.type === 'error') {
            if (e.code === 'cache_full' && cachePolicy === 'full') capSec = lastEnd;
            else failures.push(e.message);
          }
        },
      });
      await commentary.done;
      if (o.signal?.aborted) break;
      if (failures.length > 0) throw new SightlineError('internal', `${o.id}: ${failures[0]}`);
      if (cursor.exhausted && !cursor.hasHeld) break; // the video ended before toSec
      if (period !== Infinity && segStart + period < o.toSec) resets++;
    }
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
    await source.close();
  }
  if (o.signal?.aborted) throw new SightlineError('bad_input', 'interrupted'); // the caller knows why
  if (capSec !== null) {
    for (let s = capSec; s < o.toSec; s++) {
      o.writer.write({ start_time: s, end_time: s + 1, response: null });
      o.onSecond?.(s + 1);
    }
  }
  return {
    policy: o.policy,
    fromSec: o.fromSec,
    toSec: capSec === null ? lastEnd : o.toSec,
    capSec,
    resets,
    wallSec: Math.round((performance.now() - started) / 100) / 10,
    resumeMismatches: o.writer.mismatches,
  };
}
