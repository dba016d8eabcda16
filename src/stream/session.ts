/**
 * CommentarySession: one stream. A reader pulls 1-second chunks from the source into a bounded queue
 * while the loop runs the previous second on the engine (ingest and inference overlap). Per second:
 * pack frames -> engine step (vision, round, generation, eviction in the worker) -> commentary event.
 * Prompt changes and stop requests are applied between steps, never mid-step.
 */
import { EventEmitter } from 'node:events';
import type { CacheLimits, CachePolicyName } from '../cache/index.js';
import { DEFAULT_CACHE_LIMITS, DEFAULT_CACHE_POLICY } from '../cache/index.js';
import { SightlineError, isSightlineError } from '../errors.js';
import type { FrameChunk, SourceHealth, SourceState } from '../ingest/types.js';
import type { ModelConfig } from '../model/config.js';
import type { EnginePool, FramesMessage } from '../model/pool.js';
import type { SamplingOptions } from '../model/sampler.js';
import type { SecondResult, StreamEngineOptions } from '../model/stream-engine.js';
import { ChunkQueue, type QueuedChunk } from './chunk-queue.js';
import { SKIPPED_GAP_REASON, type SessionEvent, type StatusEvent } from './events.js';
import { BoundedTranscript } from './transcript.js';

/** What a session needs from the engine (EnginePool satisfies it; tests may fake it). */
export type EngineClient = Pick<EnginePool, 'open' | 'step' | 'setPrompt' | 'close' | 'config'>;

/** A source's health reports ('state' events of src/ingest's FrameSource), when it has them. */
export type SourceStateListener = (state: SourceState, detail?: string, health?: SourceHealth) => void;

export interface SessionOptions {
  id: string;
  source: AsyncIterable<FrameChunk> & { stats?: () => { outputFps: number }; on?: (event: 'state', listener: SourceStateListener) => unknown };
  engine: EngineClient;
  prompt?: string;
  /** Commentary before the stream starts (e.g. a reference transcript before t0), oldest first. */
  previousTexts?: string[];
  policy?: CachePolicyName;
  limits?: Partial<CacheLimits>;
  sampling?: Partial<SamplingOptions>;
  maxTokensPerSecond?: number;
  /** Hard cap on one stream's KV bytes (default 256 MiB). */
  maxBytesPerStream?: number;
  /** 'oldest' (default): when more than maxBacklogSec seconds wait, skip the oldest. 'none': never skip. */
  skip?: 'oldest' | 'none';
  maxBacklogSec?: number;
  /** Chunks buffered between reader and loop (default 8); a full queue pauses the reader. */
  maxQueuedChunks?: number;
  /** A status event every this many stream seconds (default 5). */
  statusEverySec?: number;
  /** Engine restarts (worker crashes) tolerated before the stream fails (default 3). */
  maxRestarts?: number;
  /**
   * This session continues an earlier one (a server restart): its first `live` status says `resumed`, and
   * its first second is preceded by a `gap` from `endSec` (where the earlier one stopped) with `reason`.
   */
  resumeFrom?: { endSec: number; reason: string };
}

export class CommentarySession extends EventEmitter {
  readonly id: string;
  private readonly queue: ChunkQueue;
  private readonly transcript = new BoundedTranscript();
  private readonly engineOptions: StreamEngineOptions;
  private pendingPrompt?: string;
  private stopped = false;
  private skipped = 0;
  /** Start seconds dropped by the skip policy, marked as gaps once the second in hand is out. */
  private readonly pendingSkips: number[] = [];
  private drops = 0;
  private restarts = 0;
  private lastStep?: SecondResult;
  private lastLagSec = 0;
  /** Set while the source is gone (reported `reconnecting`): why, and the attempt. */
  private outage?: { reason: string; attempt: number };
  /** An outage (or restart) to mark as a `gap` before the next second, from lastChunkEnd. */
  private gapReason?: string;
  /** Seconds without a hole since the source came back (see markGap). */
  private contiguousAfterOutage = 0;
  private lastChunkEnd?: number;
  private resumed = false;
  /** Until the first second after a restart: why the stream was away (kept in front of any outage reason). */
  private resumeReason?: string;
  /** Set while the model's out-of-domain gate says the picture is not its world (the engine keeps it silent). */
  private outOfDomain?: { reason: string };

  constructor(private readonly o: SessionOptions) {
    super();
    this.id = o.id;
    this.queue = new ChunkQueue(o.maxQueuedChunks ?? 8);
    this.engineOptions = sessionEngineOptions(o.engine.config.generation, o);
    if (o.resumeFrom) {
      this.lastChunkEnd = o.resumeFrom.endSec;
      this.gapReason = o.resumeFrom.reason;
      this.resumeReason = o.resumeFrom.reason;
      this.resumed = true;
    }
  }

  /** Change the prompt; applied before the next second. */
  setPrompt(prompt: string): void {
    this.pendingPrompt = prompt;
  }

  /** Stop after the second in progress. */
  stop(): void {
    this.stopped = true;
    this.queue.end();
  }

  previousTexts(): string[] {
    return this.transcript.previousTexts();
  }

  /** Runs until the source ends, the session is stopped, or it fails; always ends with an `end` event. */
  async run(): Promise<void> {
    this.status('starting', this.lastChunkEnd ?? 0);
    this.o.source.on?.('state', (state, detail, health) => this.onSourceState(state, detail, health));
    const reader = this.readSource();
    try {
      await this.o.engine.open(this.id, this.engineOptions, this.o.previousTexts ?? []);
      for (const text of this.o.previousTexts ?? []) this.transcript.add({ start: 0, end: 0, text }, false);
      this.status('live', this.lastChunkEnd ?? 0, this.resumed ? { resumed: true } : {});
      await this.loop();
      this.status('ended', this.streamTime());
    } catch (err) {
      this.error(err);
      this.status('failed', this.streamTime(), { reason: (err as Error)?.message ?? String(err) });
    } finally {
      this.stopped = true;
      this.queue.end();
      // A live source may be blocked waiting for its next second: close it (ingest kills ffmpeg) and
      // give the reader a moment rather than waiting on the network.
      const source = this.o.source as { close?: () => Promise<void> };
      if (typeof source.close === 'function') await source.close().catch(() => undefined);
      await Promise.race([reader, new Promise((r) => setTimeout(r, 1000).unref())]);
      await this.o.engine.close(this.id).catch(() => undefined);
      this.emitEvent({ type: 'end', stream: this.id });
    }
  }

  /** A source failure (e.g. an outage past its limit) fails the session once the seconds before it ran. */
  private readError?: unknown;

  private async readSource(): Promise<void> {
    try {
      for await (const chunk of this.o.source) {
        if (this.stopped) break;
        this.drops += chunk.dropped;
        await this.queue.push({ chunk, arrivedMs: performance.now() });
      }
    } catch (err) {
      this.readError = err;
    } finally {
      this.queue.end();
    }
  }

  /**
   * Source health -> status events at once (even while the loop waits for a second):
   *   reconnecting -> status `reconnecting` {reason, attempt}; the next second is preceded by a `gap`
   *   live again   -> status `live` {resumed: true}
   */
  private onSourceState(state: SourceState, detail?: string, health?: SourceHealth): void {
    if (this.stopped) return;
    if (state === 'reconnecting') {
      const reason = health?.reason ?? detail ?? 'source lost';
      this.outage = { reason, attempt: health?.attempt ?? 0 };
      this.gapReason = this.resumeReason ? `${this.resumeReason}; then ${reason}` : reason;
      this.contiguousAfterOutage = 0;
      this.status('reconnecting', this.streamTime());
    } else if (state === 'live' && this.outage) {
      this.outage = undefined;
      this.status('live', this.streamTime(), { resumed: true });
    }
  }

  /** Stream time reached: the end of the last second taken from the source. */
  private streamTime(): number {
    return Math.max(this.lastStep?.endSec ?? 0, this.lastChunkEnd ?? 0);
  }

  /**
   * Marks seconds the source was gone for, before the first second after it came back. A second that
   * follows on without a hole is one still in ffmpeg's pipe from before the drop (seen on a loaded machine:
   * it can arrive after the source is live again), so the mark waits for a hole; once two seconds in a row
   * follow on, the source came back without losing any and the mark goes.
   */
  private markGap(startSec: number): void {
    const from = this.lastChunkEnd;
    this.lastChunkEnd = startSec + 1;
    if (this.gapReason === undefined || this.outage) return;
    if (from !== undefined && startSec <= from && ++this.contiguousAfterOutage < 2) return;
    this.resumeReason = undefined;
    const reason = this.gapReason;
    this.gapReason = undefined;
    this.contiguousAfterOutage = 0;
    if (from !== undefined && startSec > from) this.emitEvent({ type: 'gap', stream: this.id, start: from, end: startSec, reason });
  }

  private async loop(): Promise<void> {
    const every = this.o.statusEverySec ?? 5;
    for (;;) {
      const item = await this.queue.take();
      if (!item && this.readError !== undefined && !this.stopped) throw this.readError;
      if (!item || this.stopped) return;
      this.markGap(item.chunk.startSec);
      this.applySkipPolicy(item);
      if (this.pendingPrompt !== undefined) await this.applyPrompt();
      const result = await this.stepWithRestart(item);
      if (!result) {
        this.markSkips();
        continue;
      }
      this.lastStep = result;
      this.followDomain(result);
      this.transcript.add({ start: result.startSec, end: result.endSec, text: result.text }, result.silent);
      this.emitEvent({
        type: 'commentary',
        stream: this.id,
        start: result.startSec,
        end: result.endSec,
        text: result.text,
        tokens: result.tokenIds.length,
        latencyMs: Math.round(performance.now() - item.arrivedMs),
      });
      this.markSkips();
      if (Math.floor(result.endSec) % every === 0) this.status(this.outage ? 'reconnecting' : this.outOfDomain ? 'out_of_domain' : this.lastLagSec > 0 ? 'lagging' : 'live', result.endSec);
    }
  }

  /** The engine's out-of-domain gate -> status `out_of_domain` when it closes, `live` when it opens again. */
  private followDomain(result: SecondResult): void {
    const ood = result.ood;
    if (!ood || ood.outOfDomain === (this.outOfDomain !== undefined)) return;
    if (ood.outOfDomain) {
      const model = this.o.engine.config.name;
      this.outOfDomain = { reason: `the picture is not the world ${model} was trained on (out-of-domain score ${ood.smoothed.toFixed(1)} >= ${ood.threshold}): commentary paused` };
      this.status('out_of_domain', result.endSec);
    } else {
      this.outOfDomain = undefined;
      this.status('live', result.endSec);
    }
  }

  /** Behind real time: drop the oldest waiting seconds, report them, and carry on with the newest. */
  private applySkipPolicy(item: QueuedChunk): void {
    const newest = this.queue.newestStartSec();
    this.lastLagSec = newest === undefined ? 0 : newest - item.chunk.startSec;
    if ((this.o.skip ?? 'oldest') === 'none') return;
    const dropped = this.queue.dropBacklog(this.o.maxBacklogSec ?? 2);
    if (dropped.length > 0) {
      this.skipped += dropped.length;
      this.pendingSkips.push(...dropped.map((d) => d.chunk.startSec));
      this.status('lagging', item.chunk.startSec);
    }
  }

  /** Skipped seconds become gap lines, one per run of consecutive seconds, after the second before them. */
  private markSkips(): void {
    const starts = this.pendingSkips.splice(0);
    for (let i = 0; i < starts.length; ) {
      let j = i + 1;
      while (j < starts.length && starts[j] === starts[j - 1] + 1) j++;
      this.emitEvent({ type: 'gap', stream: this.id, start: starts[i], end: starts[j - 1] + 1, reason: SKIPPED_GAP_REASON });
      i = j;
    }
  }

  private async applyPrompt(): Promise<void> {
    const prompt = this.pendingPrompt!;
    this.pendingPrompt = undefined;
    this.engineOptions.prompt = prompt;
    await this.o.engine.setPrompt(this.id, prompt);
  }

  /** One engine step; a crashed worker reopens the stream from its transcript and retries once. */
  private async stepWithRestart(item: QueuedChunk): Promise<SecondResult | undefined> {
    for (;;) {
      try {
        return await this.o.engine.step(this.id, packFrames(item.chunk));
      } catch (err) {
        if (!isSightlineError(err) || err.code !== 'worker_failed') {
          if (isSightlineError(err) && err.code === 'bad_input') {
            this.error(err);
            return undefined; // a bad second is reported and skipped; the stream goes on
          }
          throw err;
        }
        this.error(err);
        if (++this.restarts > (this.o.maxRestarts ?? 3)) throw err;
        await this.o.engine.open(this.id, this.engineOptions, this.transcript.previousTexts());
        this.status('live', item.chunk.startSec);
      }
    }
  }

  private status(state: StatusEvent['state'], time: number, extra: Pick<StatusEvent, 'reason' | 'resumed'> = {}): void {
    const s = this.lastStep;
    const outage = state === 'reconnecting' ? this.outage : undefined;
    const ood = s?.ood;
    this.emitEvent({
      type: 'status',
      stream: this.id,
      state,
      time,
      ingestFps: this.o.source.stats?.().outputFps ?? 0,
      drops: this.drops,
      lagSec: this.lastLagSec,
      stepLatencyMs: s ? Math.round(s.timings.totalMs) : 0,
      cacheBytes: s?.cache.bytes ?? 0,
      skippedSeconds: this.skipped,
      ...(outage ? { reason: outage.reason, attempt: outage.attempt } : {}),
      ...(state === 'out_of_domain' && this.outOfDomain ? { reason: this.outOfDomain.reason } : {}),
      ...(ood ? { oodScore: Math.round(ood.smoothed * 100) / 100 } : {}),
      ...extra,
    });
  }

  private error(err: unknown): void {
    const code = isSightlineError(err) ? err.code : 'internal';
    this.emitEvent({ type: 'error', stream: this.id, code, message: (err as Error)?.message ?? String(err) });
  }

  private emitEvent(e: SessionEvent): void {
    this.emit('event', e);
  }

  get restartCount(): number {
    return this.restarts;
  }
}

/**
 * A stream's K/V cache at most (bytes). The windowed policies size the cache from their limits, so this only
 * refuses a model whose window would not fit, and bounds `full`. 1 GiB: the default limits with a 3B decoder
 * (Qwen2.5-VL-3B, ~72 KB a row) need ~270 MB, SmolVLM2-500M's ~450 MB; our own model's need a few MB.
 */
export const DEFAULT_MAX_CACHE_BYTES_PER_STREAM = 1 << 30;

/**
 * The engine options of a session: the model's generation settings, the service's cache defaults, and the
 * session's overrides. Benches that drive a StreamEngine directly use it to run as a session does.
 */
export function sessionEngineOptions(
  gen: ModelConfig['generation'],
  o: Pick<SessionOptions, 'id' | 'policy' | 'limits' | 'maxBytesPerStream' | 'prompt' | 'sampling' | 'maxTokensPerSecond'>,
): StreamEngineOptions {
  return {
    policy: o.policy ?? DEFAULT_CACHE_POLICY,
    limits: { ...DEFAULT_CACHE_LIMITS, ...o.limits },
    maxBytesPerStream: o.maxBytesPerStream ?? DEFAULT_MAX_CACHE_BYTES_PER_STREAM,
    prompt: o.prompt ?? '',
    sampling: { temperature: gen.temperature, topP: gen.topP, repetitionPenalty: gen.repetitionPenalty, silenceThreshold: gen.silenceThreshold, endThreshold: gen.endThreshold, seed: hashSeed(o.id), ...o.sampling },
    maxTokensPerSecond: o.maxTokensPerSecond ?? gen.maxTokensPerSecond,
    repetitionWindowTokens: 64,
    quiet: { minIntervalSec: gen.minIntervalSec, minVisualChange: gen.minVisualChange },
  };
}

/** Frames of one chunk packed into one buffer (all frames share the first frame's size). */
export function packFrames(chunk: FrameChunk): FramesMessage {
  const first = chunk.frames[0];
  const width = first?.width ?? 0;
  const height = first?.height ?? 0;
  const size = width * height * 3;
  const odd = chunk.frames.find((f) => f.width !== width || f.height !== height || f.rgb.length < size);
  if (odd) throw new SightlineError('bad_input', `frame at ${odd.ptsSec}s is ${odd.width}x${odd.height}, others ${width}x${height}`);
  const rgb = new Uint8Array(size * chunk.frames.length);
  chunk.frames.forEach((f, i) => rgb.set(f.rgb.subarray(0, size), i * size));
  return { startSec: chunk.startSec, endSec: chunk.startSec + 1, rgb, frames: chunk.frames.length, width, height };
}

function hashSeed(id: string): number {
  let h = 2166136261;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 16777619);
  return h >>> 0;
}
