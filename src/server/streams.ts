/**
 * The registry of streams: creates runners through the StreamFactory, wires each runner's events
 * to its transcript, its fan-out hub, its video hub and the metrics, and reloads the streams of a
 * previous run (listed as ended, transcripts served) from the data dir.
 */
import { randomBytes } from 'node:crypto';
import type { Device } from '../model/providers.js';
import { SightlineError, type ErrorCode } from '../errors.js';
import { toWsClose, type WsClose } from './errors.js';
import type { FrameChunk } from '../stream/index.js';
import type { SessionEvent } from '../stream/events.js';
import { FanoutHub, type FanoutOptions } from './fanout.js';
import type { Logger } from './logger.js';
import type { ServerMetrics } from './metrics.js';
import { previousTextsFrom } from '../stream/index.js';
import type { StreamFactory, StreamRunner, StreamSpec, StreamStats } from './runner.js';
import type { Segment } from './transcript-store.js';
import type { StreamInfo, StreamModel } from './schemas.js';
import { TranscriptStore, type StoredMeta, type TranscriptWriter } from './transcript-store.js';
import { VideoHub } from './video.js';

/** Retry-After of a refusal by the operator's stream limit: nothing says when a stream will end. */
export const STREAM_LIMIT_RETRY_SEC = 30;
/**
 * Default most ended streams kept in memory (listed, viewable, transcripts served). Older ended
 * streams are forgotten from memory, oldest first; their files stay in the data dir.
 */
export const DEFAULT_MAX_ENDED_STREAMS = 1000;

type State = StreamInfo['state'];

export interface ManagedStream {
  meta: StoredMeta;
  state: State;
  hub: FanoutHub;
  video: VideoHub;
  runner?: StreamRunner;
  writer?: TranscriptWriter;
  stats?: StreamStats;
  /** The commentator and what it knows (StreamInfo.model), once started. */
  model?: StreamModel;
  segments: number;
  /** The last error event, used as the close reason if the stream fails. */
  lastError?: { code: string; message: string };
}

export interface StreamManagerOptions {
  factory: StreamFactory;
  store: TranscriptStore;
  logger: Logger;
  fanout?: FanoutOptions;
  videoQueueBytes?: number;
  /**
   * The operator's limit on streams running at once (`serve --max-streams`); default none: admission follows
   * each device's measured load (the runner's admit(), 503 device_full).
   */
  maxLiveStreams?: number;
  maxEndedStreams?: number;
  metrics?: ServerMetrics;
  /** Hears every commentary segment as it is published (the live search index subscribes here). */
  onSegment?: (segment: { stream: string; start: number; end: number; text: string }) => void;
}

const isFinal = (s: State) => s === 'ended' || s === 'failed';

/** The close a failed stream's viewers get: its last error's code (unknown codes -> source_failed). */
function failureClose(stream: ManagedStream): WsClose {
  const last = stream.lastError ?? { code: 'source_failed', message: `stream "${stream.meta.id}" failed` };
  const known = Number.isFinite(new SightlineError(last.code as ErrorCode, '').httpStatus);
  return toWsClose(new SightlineError(known ? (last.code as ErrorCode) : 'source_failed', last.message));
}

export class StreamManager {
  private readonly streams = new Map<string, ManagedStream>();

  constructor(private readonly options: StreamManagerOptions) {
    this.loadPrevious();
  }

  /** Resumptions started by the constructor (tests and shutdown may wait for them). */
  readonly resuming: Promise<void>[] = [];

  /**
   * Streams of an earlier run. Final ones (ended, failed) replay their transcript tail, then close.
   * One whose meta.json is not final was running when the server died (kill -9, power loss): it starts
   * again from its transcript (see resume()). Graceful shutdown ends streams (`ended`), so they stay ended.
   */
  private loadPrevious(): void {
    const maxEnded = this.options.maxEndedStreams ?? DEFAULT_MAX_ENDED_STREAMS;
    for (const meta of this.options.store.list().slice(-maxEnded)) {
      const resumable = !isFinal(meta.state as State) && meta.resume !== false;
      const state: State = resumable ? 'starting' : meta.state === 'failed' ? 'failed' : 'ended';
      if (!resumable && !isFinal(meta.state as State)) this.options.store.writeMeta({ ...meta, state, endedAt: meta.endedAt ?? new Date().toISOString() });
      const stream = this.newEntry({ ...meta, state });
      const segments = this.options.store.readSegments(meta.id);
      stream.segments = segments.filter((s) => s.gap === undefined).length;
      const historySize = this.options.fanout?.historySize ?? 100;
      for (const s of segments.slice(-historySize)) {
        stream.hub.publish(
          s.gap !== undefined
            ? { type: 'gap', stream: meta.id, start: s.start, end: s.end, reason: s.gap }
            : { type: 'commentary', stream: meta.id, start: s.start, end: s.end, text: s.text, tokens: s.tokens ?? 0, latencyMs: s.latencyMs ?? 0 },
        );
      }
      this.streams.set(meta.id, stream);
      if (resumable) {
        this.resuming.push(this.resume(stream, segments));
        continue;
      }
      stream.hub.publish({ type: 'end', stream: meta.id });
      stream.video.close();
    }
  }

  /**
   * Starts a stream of a crashed run again: same id, source and settings; its previous text rebuilt from
   * the transcript, its clock continuing where the transcript ends (see StreamSpec.resume). A stream that
   * cannot start again is `failed` with the reason.
   */
  private async resume(stream: ManagedStream, segments: Segment[]): Promise<void> {
    const { meta } = stream;
    const endSec = segments.reduce((m, s) => Math.max(m, s.end), 0);
    const downtimeSec = Math.max(0, Math.round((Date.now() - this.options.store.lastWriteMs(meta.id)) / 1000));
    const spec: StreamSpec = {
      id: meta.id,
      source: meta.source,
      fps: meta.fps,
      ...(meta.prompt !== undefined ? { prompt: meta.prompt } : {}),
      ...(meta.device?.requested ? { device: meta.device.requested } : {}),
      ...(meta.model ? { model: meta.model } : {}),
      resume: { endSec, downtimeSec, previousTexts: previousTextsFrom(segments) },
    };
    this.options.logger.info('stream resuming', { stream: meta.id, source: meta.source, endSec, downtimeSec });
    stream.meta = { ...meta, resumedAt: new Date().toISOString() };
    try {
      await this.launch(stream, this.options.factory(spec));
    } catch (err) {
      stream.lastError ??= { code: err instanceof SightlineError ? err.code : 'internal', message: (err as Error)?.message ?? String(err) };
      this.options.logger.warn('stream could not resume', { stream: meta.id, ...stream.lastError });
      this.finish(stream, 'failed');
    }
  }

  private newEntry(meta: StoredMeta): ManagedStream {
    const metrics = this.options.metrics;
    const onSlowViewer = (stream: string) => {
      metrics?.countSlowViewer();
      this.options.logger.warn('slow viewer dropped', { stream });
    };
    const onBroadcastDone = (elapsedMs: number, viewers: number) => {
      if (viewers > 0) metrics?.observeBroadcastMs(elapsedMs);
      this.options.fanout?.onBroadcastDone?.(elapsedMs, viewers);
    };
    const hub = new FanoutHub(meta.id, { ...this.options.fanout, onSlowViewer, onBroadcastDone });
    return { meta, state: meta.state as State, hub, video: new VideoHub(this.options.videoQueueBytes), segments: 0 };
  }

  /**
   * Creates and starts a stream for an already policy-checked source (on `device`, default: the server's).
   * `resume: false` keeps it from being resumed after a crash (a source that dies with the server).
   */
  async create(source: string, fps: number, prompt?: string, device?: Device, options: { resume?: boolean; model?: string } = {}): Promise<ManagedStream> {
    this.checkStreamLimit();
    const id = `s_${randomBytes(6).toString('hex')}`;
    const { model } = options;
    const meta: StoredMeta = { id, source, fps, prompt, createdAt: new Date().toISOString(), state: 'starting', ...(options.resume === false ? { resume: false } : {}), ...(model ? { model } : {}) };
    // The factory and admission run first: if either refuses, nothing is stored or listed.
    const runner = this.options.factory({ id, source, fps, prompt, ...(device ? { device } : {}), ...(model ? { model } : {}) });
    await runner.admit?.();
    try {
      this.checkStreamLimit(); // again: other creations may have got in while the device was asked
    } catch (err) {
      await runner.stop();
      throw err;
    }
    const stream = this.newEntry(meta);
    this.streams.set(id, stream);
    await this.launch(stream, runner);
    return stream;
  }

  /**
   * Registers a stream started elsewhere (a gateway learning of another gateway's stream) and follows it through
   * `runner`; no admission and no resume: the runner brings the stream's history and live messages.
   */
  async adopt(meta: StoredMeta, runner: StreamRunner): Promise<ManagedStream> {
    const known = this.streams.get(meta.id);
    if (known) return known;
    const stream = this.newEntry(meta);
    this.streams.set(meta.id, stream);
    await this.launch(stream, runner);
    return stream;
  }

  /** Whether a stream id is known here. */
  has(id: string): boolean {
    return this.streams.has(id);
  }

  /** Drops a stream purged elsewhere (another gateway) from memory and the scratch data, telling its viewers it ended. */
  async forget(id: string): Promise<void> {
    const stream = this.streams.get(id);
    if (!stream) return;
    await stream.runner?.release?.();
    if (!isFinal(stream.state)) this.finish(stream, 'ended');
    this.streams.delete(id);
    this.options.store.remove(id);
  }

  /** The operator's limit (`serve --max-streams`): 503 `stream_limit` with Retry-After once reached. */
  private checkStreamLimit(): void {
    const max = this.options.maxLiveStreams;
    if (max === undefined) return;
    const live = [...this.streams.values()].filter((s) => !isFinal(s.state)).length;
    if (live >= max) {
      throw new SightlineError('stream_limit', `the server runs at most ${max} live stream${max === 1 ? '' : 's'} (serve --max-streams) and ${live} are live; stop one or retry later`, { retryAfterSec: STREAM_LIMIT_RETRY_SEC });
    }
  }

  /**
   * Opens the transcript, wires the runner and starts it. meta.json (replaced atomically) says `starting`
   * only until start() settles: then `live` (with the engine's device) or `failed`.
   */
  private async launch(stream: ManagedStream, runner: StreamRunner): Promise<void> {
    const { id } = stream.meta;
    stream.writer = this.options.store.create({ ...stream.meta, state: 'starting' });
    stream.runner = runner;
    runner.on('event', (e: SessionEvent) => this.onEvent(stream, e));
    runner.on('chunk', (c: FrameChunk) => stream.video.onChunk(c));
    try {
      await runner.start();
    } catch (err) {
      stream.lastError ??= { code: err instanceof SightlineError ? err.code : 'internal', message: (err as Error)?.message ?? String(err) };
      this.finish(stream, 'failed');
      throw err;
    }
    if (stream.state === 'starting') stream.state = 'live';
    const engine = runner.device?.();
    stream.model = runner.model?.();
    stream.meta = { ...stream.meta, state: 'live', ...(engine ? { device: engine } : {}) };
    // Stored so a restart knows it ran (and its listing shows the device), unless it already ended or was purged.
    if (this.streams.get(id) === stream && !isFinal(stream.state)) this.options.store.writeMeta(stream.meta);
    this.options.logger.info('stream started', { stream: id, source: stream.meta.source, ...(engine ? { provider: engine.provider } : {}) });
  }

  private onEvent(stream: ManagedStream, event: SessionEvent): void {
    if (stream.hub.isEnded) return;
    const e = { ...event, stream: stream.meta.id } as SessionEvent;
    switch (e.type) {
      case 'commentary':
        stream.writer?.append({ start: e.start, end: e.end, text: e.text, tokens: e.tokens, latencyMs: e.latencyMs });
        stream.segments++;
        this.options.onSegment?.({ stream: stream.meta.id, start: e.start, end: e.end, text: e.text });
        this.options.metrics?.observeStepMs(e.latencyMs);
        break;
      case 'status':
        this.logHealth(stream, e);
        this.options.metrics?.countSkippedSeconds(e.skippedSeconds - (stream.stats?.skippedSeconds ?? 0));
        stream.stats = e;
        if (!isFinal(stream.state)) stream.state = e.state;
        break;
      case 'gap':
        // Kept in the transcript as a line with text "" and the reason (exports show "[no signal]").
        stream.writer?.append({ start: e.start, end: e.end, text: '', gap: e.reason });
        this.options.logger.info('source gap', { stream: e.stream, start: e.start, end: e.end, reason: e.reason });
        break;
      case 'error':
        stream.lastError = { code: e.code, message: e.message };
        this.options.logger.warn('stream error', { stream: e.stream, code: e.code, message: e.message });
        break;
      case 'end':
        stream.hub.publish(e);
        this.finish(stream, stream.state === 'failed' ? 'failed' : 'ended');
        return;
    }
    stream.hub.publish(e);
  }

  /** One log line per source health change (not per status): lost with the reason, back, resumed. */
  private logHealth(stream: ManagedStream, e: Extract<SessionEvent, { type: 'status' }>): void {
    const was = stream.stats;
    const id = stream.meta.id;
    if (e.state === 'reconnecting' && (was?.state !== 'reconnecting' || was.attempt !== e.attempt)) {
      this.options.logger.warn('source reconnecting', { stream: id, reason: e.reason, attempt: e.attempt });
    } else if (e.state === 'live' && e.resumed) {
      this.options.logger.info('stream resumed', { stream: id, time: e.time });
    } else if (e.state === 'failed') {
      this.options.logger.warn('stream failed', { stream: id, reason: e.reason });
    }
  }

  /** Marks a stream final, closes its transcript, and closes viewers once the end is sent. */
  private finish(stream: ManagedStream, state: State): void {
    if (stream.writer === undefined && isFinal(stream.state)) return;
    stream.state = state;
    stream.writer?.close();
    stream.writer = undefined;
    stream.meta = { ...stream.meta, state, endedAt: new Date().toISOString() };
    this.options.store.writeMeta(stream.meta);
    if (!stream.hub.isEnded) stream.hub.publish({ type: 'end', stream: stream.meta.id });
    stream.hub.closeAll(state === 'failed' ? failureClose(stream) : undefined);
    stream.video.close();
    this.options.logger.info('stream ended', { stream: stream.meta.id, state });
    this.forgetOldEnded();
  }

  /** Keeps at most `maxEndedStreams` ended streams in memory (Map order = creation order). */
  private forgetOldEnded(): void {
    const ended = this.list().filter((s) => isFinal(s.state));
    const excess = ended.length - (this.options.maxEndedStreams ?? DEFAULT_MAX_ENDED_STREAMS);
    for (const s of ended.slice(0, Math.max(0, excess))) this.streams.delete(s.meta.id);
  }

  get(id: string): ManagedStream {
    const stream = this.streams.get(id);
    if (!stream) throw new SightlineError('not_found', `stream "${id}" not found`);
    return stream;
  }

  list(): ManagedStream[] {
    return [...this.streams.values()];
  }

  /** Stops a stream (transcript kept); with `purge`, also forgets it and deletes its data. */
  async stop(id: string, purge = false): Promise<void> {
    const stream = this.get(id);
    if (stream.runner && !isFinal(stream.state)) {
      try {
        await stream.runner.stop();
      } finally {
        this.finish(stream, 'ended');
      }
    }
    if (purge) {
      this.streams.delete(id);
      this.options.store.remove(id);
      await stream.runner?.purge?.(); // a cluster's stream: its log and entry go for every gateway
    }
  }

  info(stream: ManagedStream): StreamInfo {
    const { meta } = stream;
    const stats = stream.runner && !isFinal(stream.state) ? stream.runner.stats() : stream.stats;
    return {
      id: meta.id,
      source: meta.source,
      fps: meta.fps,
      ...(meta.prompt !== undefined ? { prompt: meta.prompt } : {}),
      state: stream.state,
      createdAt: meta.createdAt,
      ...(meta.endedAt ? { endedAt: meta.endedAt } : {}),
      ...(meta.resumedAt ? { resumedAt: meta.resumedAt } : {}),
      viewers: stream.hub.viewerCount + stream.video.viewerCount,
      segments: stream.segments,
      ...(stats ? { stats: { ...stats, state: stats.state } } : {}),
      ...(meta.device ? { device: meta.device } : {}),
      ...(stream.model ? { model: stream.model } : {}),
    };
  }

  /** Stops every running stream (server shutdown); one that runs elsewhere is only let go (runner.release). */
  async closeAll(): Promise<void> {
    await Promise.allSettled(this.list().filter((s) => !isFinal(s.state)).map((s) => (s.runner?.release ? s.runner.release() : this.stop(s.meta.id))));
    for (const s of this.list()) s.hub.closeAll();
  }
}
