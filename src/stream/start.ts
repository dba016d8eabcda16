/**
 * startCommentary: the one way to start commentary on a source. The server, the evaluation, `watch` and the
 * benches all start sessions here, so none of them opens a source or wires a session by hand:
 *
 *   const run = startCommentary('match.mp4', pool, { id: 'm1', onEvent: (e) => ... });
 *   await run.done;              // or run.stop() to end it early
 *
 * A source given by name is opened through src/ingest at the model's frame size and (unless `ingest.fps`
 * says otherwise) the model's frame rate; it is closed when the session ends, whatever the reason. Chunks
 * produced elsewhere (the synthetic world, a slice of another stream, tests) are passed straight through
 * and stay their producer's to close.
 */
import { classifySource, openSource, type FrameChunk, type FrameSource, type IngestOptions } from '../ingest/index.js';
import type { ModelConfig } from '../model/config.js';
import type { SessionEvent } from './events.js';
import { CommentarySession, type EngineClient, type SessionOptions } from './session.js';

/** Chunks in stream order from a producer other than ingest; `stats` feeds the status events' ingestFps. */
export type ChunkSource = SessionOptions['source'];

/** How a source given by name is read; the frame size is always the model's. */
export type SourceOptions = Omit<IngestOptions, 'width' | 'height'>;

export interface CommentaryOptions extends Omit<SessionOptions, 'source' | 'engine'> {
  /** Ingest settings for a source given by name (fps default: the model's framesPerSecond). */
  ingest?: SourceOptions;
  /** Every session event, from the first `status` on (attached before the session starts). */
  onEvent?(e: SessionEvent): void;
  /** Each chunk on its way to the session (the server's video preview). */
  onChunk?(chunk: FrameChunk): void;
  /**
   * Stream time of the source's first second (default 0): a resumed stream continues its transcript's
   * clock, so every chunk (and the preview) is shifted by this many seconds.
   */
  startSec?: number;
  /**
   * Continue an earlier session of the same source that stopped at stream second `endSec` (a server
   * restart), `downtimeSec` ago. A file resumes where it was (ffmpeg seeks to endSec); a live source
   * resumes at endSec + downtimeSec, and the seconds in between are a `gap` with `reason`. Either way the
   * first `live` status says `resumed`. Pass the old commentary as `previousTexts`.
   */
  resume?: { endSec: number; downtimeSec: number; reason: string };
}

export interface RunningCommentary {
  readonly id: string;
  /**
   * Settles once the session has ended (source over, stopped, or failed: failures arrive as `error` events,
   * never as a rejection) and a source opened here is closed.
   */
  readonly done: Promise<void>;
  /** Applied before the next second. */
  setPrompt(prompt: string): void;
  /** Stops after the second in progress, closes a source opened here, and waits for `done`. */
  stop(): Promise<void>;
}

/** Opens `source` through ingest as the model wants it: its frame size, and its frame rate unless given. */
export function openModelSource(source: string, vision: ModelConfig['vision'], options: SourceOptions = {}): FrameSource {
  return openSource(source, { ...options, fps: options.fps ?? vision.framesPerSecond, width: vision.imageWidth, height: vision.imageHeight });
}

export function startCommentary(source: string | ChunkSource, engine: EngineClient, options: CommentaryOptions): RunningCommentary {
  const { ingest, onEvent, onChunk, resume, startSec: givenStartSec, ...sessionOptions } = options;
  let startSec: number | (() => number) | undefined = givenStartSec;
  let sourceOptions = ingest;
  if (resume) {
    const live = typeof source === 'string' && isLive(source);
    const openedMs = Date.now();
    // A live source's clock goes on while it is away: the server's downtime, and any wait for the source's
    // first frame after the restart (counted when that frame arrives).
    startSec = live ? () => resume.endSec + resume.downtimeSec + Math.round((Date.now() - openedMs) / 1000) : resume.endSec;
    if (typeof source === 'string' && !live && resume.endSec > 0) sourceOptions = { ...ingest, inputOptions: { ...ingest?.inputOptions, ss: resume.endSec } };
    // A live source that is down when the server comes back is retried like a drop, not failed at once.
    if (live) sourceOptions = { ...ingest, wasLive: true };
  }
  const opened = typeof source === 'string' ? openModelSource(source, engine.config.vision, sourceOptions) : undefined;
  const chunks = opened ?? (source as ChunkSource);
  const session = new CommentarySession({
    ...sessionOptions,
    ...(resume ? { resumeFrom: { endSec: resume.endSec, reason: resume.reason } } : {}),
    engine,
    source: onChunk || startSec ? tap(chunks, onChunk, startSec ?? 0) : chunks,
  });
  if (onEvent) session.on('event', onEvent);
  const done = session.run().finally(() => opened?.close().catch(() => undefined));
  return {
    id: session.id,
    done,
    setPrompt: (prompt) => session.setPrompt(prompt),
    stop: async () => {
      session.stop();
      await opened?.close(); // a live source may be waiting on the network for its next second
      await done;
    },
  };
}

/**
 * Passes chunks through, shifted by `shiftBy` seconds (a function: evaluated at the first chunk) and handed to `onChunk` on the way. Keeps the source's
 * `stats`, `close` and health events (`on('state')`) so the session still reports ingest fps and source
 * outages, and can close a blocked live source when it ends.
 */
function tap(source: ChunkSource, onChunk: ((chunk: FrameChunk) => void) | undefined, shiftBy: number | (() => number)): ChunkSource {
  const closable = source as { close?: () => Promise<void> };
  return {
    stats: source.stats && (() => source.stats!()),
    ...(typeof closable.close === 'function' ? { close: () => closable.close!() } : {}),
    ...(source.on ? { on: (event: 'state', listener: Parameters<NonNullable<ChunkSource['on']>>[1]) => source.on!(event, listener) } : {}),
    async *[Symbol.asyncIterator]() {
      let shiftSec: number | undefined;
      for await (const raw of source) {
        shiftSec ??= typeof shiftBy === 'function' ? shiftBy() : shiftBy; // fixed at the first chunk
        const chunk = shiftSec ? shift(raw, shiftSec) : raw;
        onChunk?.(chunk);
        yield chunk;
      }
    },
  } as ChunkSource;
}

/** Whether a source string names a live source (unknown ones fail later, when opened, with their error). */
function isLive(source: string): boolean {
  try {
    return classifySource(source).live;
  } catch {
    return false;
  }
}

function shift(chunk: FrameChunk, sec: number): FrameChunk {
  return { ...chunk, startSec: chunk.startSec + sec, frames: chunk.frames.map((f) => ({ ...f, ptsSec: f.ptsSec + sec })) };
}
