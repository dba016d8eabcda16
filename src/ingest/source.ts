import { EventEmitter } from 'node:events';
import { SightlineError, isSightlineError } from '../errors.js';
import { Chunker } from './chunker.js';
import { buildIngestArgs } from './command.js';
import { errorForRun } from './errors-from-stderr.js';
import { ffmpegCapabilities } from './ffmpeg-capabilities.js';
import { FfmpegRun, type RunOutcome } from './ffmpeg-run.js';
import { FrameQueue, type QueuedFrame } from './frame-queue.js';
import { HlsLiveEdge, optionsForPlaylist, probeHlsPlaylist } from './hls-playlist.js';
import { resolveOptions, type ResolvedOptions } from './ingest-options.js';
import { RateMeter } from './rate-meter.js';
import { ReconnectBackoff } from './reconnect.js';
import { classifySource, type ClassifiedSource } from './source-kind.js';
import type { FrameChunk, FrameSource, IngestOptions, IngestStats, SourceHealth, SourceState } from './types.js';

/** How often a live source checks for silence (quiet report, outage limit). */
const HEALTH_CHECK_MS = 200;

/**
 * A source being ingested: a loop of ffmpeg runs (one, for files; one per (re)connect, for live
 * sources) feeding one bounded FrameQueue that the consumer drains through a Chunker.
 *
 * Timestamps: frame k of the stream has ptsSec = k / fps, k counted on the sampling grid from the first
 * frame ever delivered (so ptsSec is 0, 0.5, 1.0, ... at 2 fps whatever the source's own timestamps are).
 * After a reconnect of a live source the grid continues at the wall-clock position (stream time keeps pace
 * with the live edge), and at least the outage's length past the last frame (the outage always shows as a gap).
 *
 * States:  starting -> live -> (reconnecting -> live)* -> ended | failed
 * A failure before the first frame is reported at once (a wrong URL should not retry for minutes);
 * reconnects apply once a source has been live.
 *
 * Health of a live source (a timer every 200 ms while it is open):
 *   no frame for quietAfterMs (1 s)   -> 'reconnecting', attempt 0 (connection open, nothing arrives)
 *   no frame for stallTimeoutMs       -> ffmpeg stopped, 'reconnecting', attempt 1, 2, ... with backoff
 *   no frame for maxOutageMs (5 min)  -> 'failed' with the last cause (the iteration rejects)
 * Any frame -> 'live' again.
 */
export class IngestSource extends EventEmitter implements FrameSource {
  private state: SourceState = 'starting';
  private classified: ClassifiedSource | undefined;
  private options: ResolvedOptions | undefined;
  private queue: FrameQueue;
  private readonly chunker: Chunker;
  private run: FfmpegRun | undefined;
  private closed = false;
  private readonly loop: Promise<void>;
  private readonly outputRate = new RateMeter();
  private frameBytes = 0;
  // Stream clock (see class comment).
  private nextIndex = 0;
  private lastReadIndex = -1;
  private firstFrameAtMs: number | undefined;
  private delivered = 0;
  private corruptFrames = 0;
  private corruptNotYetCounted = 0;
  private reconnects = 0;
  private inputFps = 0;
  private backoff: ReconnectBackoff;
  private initError: unknown;
  private lastFrameAtMs = 0;
  private outageExceeded = false;
  private healthTimer: NodeJS.Timeout | undefined;
  private nextInLine: Promise<unknown> = Promise.resolve();
  /** Live HLS only: holds reconnects back until the playlist lists a new segment (see hls-playlist.ts). */
  private hlsEdge: HlsLiveEdge | undefined;

  constructor(
    readonly source: string,
    private readonly rawOptions: IngestOptions = {},
  ) {
    super();
    this.queue = new FrameQueue(1);
    this.chunker = new Chunker(1, () => this.takeFrame());
    this.backoff = new ReconnectBackoff({ reconnectDelayMs: 1, reconnectMaxDelayMs: 1, maxReconnectAttempts: 0 });
    try {
      this.classified = classifySource(source);
      this.options = resolveOptions(source, this.classified, rawOptions);
      const o = this.options;
      this.frameBytes = o.width * o.height * 3;
      // 'wait' pauses the pipe at maxQueuedFrames; frames already in the current pipe read (<= 64 KiB)
      // still land, so its hard capacity has that much headroom and never drops.
      const headroom = o.backpressure === 'wait' ? Math.ceil(65536 / this.frameBytes) + 1 : 0;
      this.queue = new FrameQueue(o.maxQueuedFrames + headroom);
      this.chunker = new Chunker(o.fps, () => this.takeFrame());
      this.backoff = new ReconnectBackoff(o);
    } catch (err) {
      this.initError = err;
      this.queue.end(err);
    }
    const aborted = rawOptions.signal?.aborted ?? false;
    rawOptions.signal?.addEventListener('abort', () => void this.close(), { once: true });
    this.loop = this.options && !aborted ? this.runLoop() : Promise.resolve();
    if (this.options?.wasLive && this.classified?.live && !aborted) {
      this.lastFrameAtMs = Date.now(); // the outage limit counts from now
      this.startHealthTimer();
    }
    if (this.options && aborted) void this.close();
    if (!this.options) queueMicrotask(() => this.setState('failed', (this.initError as Error).message));
  }

  // ---- consumer side ------------------------------------------------------------------------------

  [Symbol.asyncIterator](): AsyncIterator<FrameChunk> {
    return {
      next: () => {
        // Calls may overlap (e.g. raced against a timer): serve them one after another, in order.
        const chunk = this.nextInLine.then(() => this.chunker.next());
        this.nextInLine = chunk.catch(() => undefined);
        return chunk.then((c) => (c ? { value: c, done: false } : { value: undefined, done: true }));
      },
      return: async () => {
        await this.close();
        return { value: undefined, done: true };
      },
    };
  }

  private async takeFrame(): Promise<QueuedFrame | undefined> {
    const item = await this.queue.take();
    if (item) {
      this.delivered++;
      this.outputRate.tick();
      const run = this.run;
      if (run?.isPaused && this.queue.length < this.options!.maxQueuedFrames) run.resume();
    }
    return item;
  }

  stats(): IngestStats {
    const fps = this.options?.fps ?? 1;
    return {
      state: this.state,
      inputFps: this.inputFps,
      outputFps: this.outputRate.perSecond(),
      framesDelivered: this.delivered,
      framesDropped: this.queue.droppedTotal + this.corruptFrames,
      lagSec: this.lagSec(),
      reconnects: this.reconnects,
      corruptFrames: this.corruptFrames,
      queuedFrames: this.queue.length,
      streamSec: this.lastReadIndex < 0 ? 0 : this.lastReadIndex / fps,
    };
  }

  /**
   * How far behind the newest frame read from ffmpeg the consumer's next frame is, in stream seconds
   * (= wall-clock seconds for a live source): 0 when the queue is empty, at most maxQueuedFrames / fps
   * under 'drop'.
   */
  private lagSec(): number {
    const next = this.queue.peek();
    return next ? (this.lastReadIndex - next.index + 1) / (this.options?.fps ?? 1) : 0;
  }

  override on(event: 'state', listener: (state: SourceState, detail?: string, health?: SourceHealth) => void): this {
    return super.on(event, listener);
  }

  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.stopHealthTimer();
      this.backoff.cancel();
      const run = this.run;
      if (run) await run.stop();
      this.queue.end();
      this.queue.clear();
    }
    await this.loop;
    if (this.state !== 'failed') this.setState('ended');
  }

  // ---- producer side ------------------------------------------------------------------------------

  private setState(state: SourceState, detail?: string, health: SourceHealth = {}): void {
    if (state === this.state && state !== 'reconnecting') return;
    this.state = state;
    this.emit('state', state, detail, health);
  }

  /** Live sources only: reports a quiet source within quietAfterMs and gives up after maxOutageMs. */
  private startHealthTimer(): void {
    const o = this.options!;
    if (this.healthTimer || !o.reconnect || !this.classified!.live) return;
    this.healthTimer = setInterval(() => {
      if (this.closed) return;
      const quietMs = Date.now() - this.lastFrameAtMs;
      if (quietMs >= o.maxOutageMs && !this.outageExceeded) {
        this.outageExceeded = true;
        this.backoff.cancel();
        void this.run?.stop();
      } else if (quietMs >= o.quietAfterMs && this.state === 'live') {
        const reason = `${this.source}: no frames for ${(quietMs / 1000).toFixed(1)} s`;
        this.setState('reconnecting', reason, { reason, attempt: 0, code: 'source_timeout' });
      }
    }, HEALTH_CHECK_MS);
    this.healthTimer.unref();
  }

  private stopHealthTimer(): void {
    clearInterval(this.healthTimer);
    this.healthTimer = undefined;
  }

  private async runLoop(): Promise<void> {
    if (this.classified!.kind === 'hls') {
      // Live or VOD decides pacing and the stall limit (see hls-playlist.ts).
      const playlist = await probeHlsPlaylist(this.classified!.input, this.options!.ioTimeoutMs);
      this.options = optionsForPlaylist(this.options!, playlist);
      if (playlist?.live && playlist.mediaUrl) this.hlsEdge = new HlsLiveEdge(playlist.mediaUrl, this.options.ioTimeoutMs);
    }
    const o = this.options!;
    try {
      for (;;) {
        if (this.closed) break;
        // A live HLS origin listing nothing new since the drop: no run (it would replay its newest segment).
        const stale = this.reconnects > 0 && (await this.hlsEdge?.staleSinceDrop());
        const outcome = stale ? undefined : await this.runOnce();
        if (this.closed || this.limitReached()) break;
        const everLive = this.firstFrameAtMs !== undefined || o.wasLive;
        const cleanEnd = outcome !== undefined && outcome.exit.code === 0 && !outcome.stalled;
        if (cleanEnd && !this.classified!.live && everLive) break;
        const error = outcome
          ? errorForRun(outcome, {
              source: this.source,
              classified: this.classified!,
              ioTimeoutMs: o.ioTimeoutMs,
              stallTimeoutMs: o.stallTimeoutMs,
              firstFrameTimeoutMs: this.firstFrameTimeoutMs(),
              everLive,
            })
          : new SightlineError('source_timeout', `${this.source}: no new segment in the playlist since the drop`);
        // The health timer enforces the outage limit on live kinds; this check covers the others (live HLS).
        if (this.outageExceeded || (o.reconnect && everLive && Date.now() - this.lastFrameAtMs >= o.maxOutageMs)) {
          const quietSec = Math.round((Date.now() - this.lastFrameAtMs) / 1000);
          throw new SightlineError(error.code, `${error.message}; no frames for ${quietSec} s, gave up (maxOutageMs ${o.maxOutageMs})`, { cause: error });
        }
        const retry = o.reconnect && everLive ? this.backoff.next((outcome?.framesRead ?? 0) > 0) : undefined;
        if (!retry) throw error;
        this.reconnects++;
        this.setState('reconnecting', `${error.message}; attempt ${retry.attempt} in ${retry.delayMs} ms`, { reason: error.message, attempt: retry.attempt, code: error.code });
        const noted = outcome && outcome.framesRead > 0 ? this.hlsEdge?.markDrop() : undefined; // after the report
        await Promise.all([this.backoff.sleep(retry.delayMs), noted]);
      }
      this.queue.end();
      this.setState('ended');
    } catch (err) {
      const error = isSightlineError(err) ? err : new SightlineError('source_failed', `${this.source}: ${String(err)}`, { cause: err });
      this.queue.end(error);
      this.setState('failed', error.message);
    } finally {
      this.stopHealthTimer();
      await this.run?.stop(); // normally already exited; this is the guarantee
    }
  }

  private limitReached(): boolean {
    const { seconds, fps } = this.options!;
    return seconds !== undefined && this.nextIndex >= Math.ceil(seconds * fps - 1e-9);
  }

  private runOnce(): Promise<RunOutcome> {
    const o = this.options!;
    const c = this.classified!;
    const remainingFrames = o.seconds === undefined ? undefined : Math.ceil(o.seconds * o.fps - 1e-9) - this.nextIndex;
    const args = buildIngestArgs(c, {
      ...o,
      ...ffmpegCapabilities(),
      maxFrames: c.live ? undefined : remainingFrames,
      progressFd: 3,
    });
    let runFrames = 0;
    const watched = c.network || c.kind === 'v4l2';
    const run = new FfmpegRun({
      args,
      frameBytes: this.frameBytes,
      stdin: c.kind === 'stdin' ? (this.rawOptions.stdin ?? process.stdin) : undefined,
      // Files and stdin have no live edge: a slow disk or a paused consumer is not a stall.
      firstFrameTimeoutMs: watched ? this.firstFrameTimeoutMs() : 0,
      stallTimeoutMs: watched ? o.stallTimeoutMs : 0,
      onFrame: (rgb) => {
        if (runFrames++ === 0) this.startRunClock();
        this.deliver(rgb, run);
      },
      onProgress: (block, log) => {
        // Input frames decoded per second = stream speed x the input's nominal frame rate.
        this.inputFps = log.inputFrameRate > 0 ? block.speed * log.inputFrameRate : block.fps;
      },
      onCorruptFrame: () => {
        this.corruptFrames++;
        this.corruptNotYetCounted++; // carried by the next delivered frame into its chunk's `dropped`
      },
    });
    this.run = run;
    return run.outcome;
  }

  /** A live source's first picture may take the I/O timeout plus ffmpeg's probing (up to ~5 s). */
  private firstFrameTimeoutMs(): number {
    return this.options!.ioTimeoutMs + 5000;
  }

  /** First frame of a run: anchor the grid (start of stream, or resume after a reconnect). */
  private startRunClock(): void {
    const o = this.options!;
    const nowMs = Date.now();
    if (this.firstFrameAtMs === undefined) {
      this.firstFrameAtMs = nowMs;
      this.lastFrameAtMs = nowMs;
      this.startHealthTimer();
    } else if (this.classified!.live) {
      // The grid skips at least the outage's length: a stream clock that runs ahead of the wall clock
      // (ffmpeg's probe buffer delivered in a burst) would otherwise swallow a short outage.
      const wallIndex = Math.round(((nowMs - this.firstFrameAtMs) / 1000) * o.fps);
      const afterOutage = this.nextIndex + Math.round(((nowMs - this.lastFrameAtMs) / 1000) * o.fps) - 1;
      this.nextIndex = Math.max(this.nextIndex, wallIndex, afterOutage);
    }
    this.setState('live');
  }

  private deliver(rgb: Buffer, run: FfmpegRun): void {
    const o = this.options!;
    if (this.closed || this.limitReached()) {
      if (!run.isPaused && !this.closed) void run.stop();
      return;
    }
    const index = this.nextIndex++;
    this.lastReadIndex = index;
    this.lastFrameAtMs = Date.now();
    if (this.state === 'reconnecting') this.setState('live'); // the open connection came back
    const item: QueuedFrame = {
      frame: { ptsSec: index / o.fps, width: o.width, height: o.height, rgb: new Uint8Array(rgb.buffer, rgb.byteOffset, rgb.byteLength) },
      index,
      droppedBefore: this.corruptNotYetCounted,
    };
    this.corruptNotYetCounted = 0;
    this.queue.push(item);
    if (o.backpressure === 'wait' && this.queue.length >= o.maxQueuedFrames) run.pause();
    if (this.limitReached()) void run.stop();
  }

}
