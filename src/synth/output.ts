import { createWriteStream, closeSync, type WriteStream } from 'node:fs';
import { basename } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SightlineError } from '../errors.js';
import { SyntheticBroadcast, type BroadcastOptions } from './broadcast.js';
import { FfmpegSink } from './ffmpeg-sink.js';
import { TruthFiles, openForWrite, type TruthPaths } from './truth-files.js';

/** Frames rendered ahead of the sink at most: memory stays at this many frames whatever the lag. */
export const FRAMES_IN_FLIGHT = 3;

interface FrameSink {
  write(frame: Uint8Array): Promise<void>;
  readonly failure: Error | undefined;
  close(): Promise<void>;
}

export interface RunResult {
  /** Frames written. */
  frames: number;
  /** Seconds of video (and of truth) completed. */
  seconds: number;
  /** True when stopped by the abort signal before `seconds` was reached. */
  aborted: boolean;
}

export interface WriteMatchOptions extends BroadcastOptions, TruthPaths {
  seed: number;
  seconds: number;
  /** Output file. Encoded by ffmpeg unless raw: format 'rgb24', a `.rgb` name, or '-' (stdout). */
  out: string;
  format?: 'mp4' | 'rgb24';
  signal?: AbortSignal;
  /** Called once per completed second of video. */
  onProgress?(secondsDone: number): void;
}

/** The time a live stream is paced by. */
export interface PaceClock {
  nowMs(): number;
  /** Resolves after `ms` milliseconds, or early once `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Real time: `performance.now()` and a timer. */
const wallClock: PaceClock = {
  nowMs: () => performance.now(),
  sleep: (ms, signal) => sleep(ms, undefined, { signal }).catch(() => undefined),
};

export interface StreamLiveOptions extends BroadcastOptions, TruthPaths {
  seed: number;
  /** Any ffmpeg output URL: udp://host:port (mpegts), rtmp://... (flv), srt://, pipe:1, a file. */
  url: string;
  /** Stop after this many seconds; default: run until the signal aborts. */
  seconds?: number;
  signal?: AbortSignal;
  onProgress?(secondsDone: number): void;
  /** What frames are paced by (default: wall clock); a simulated clock streams as fast as the sink takes. */
  clock?: PaceClock;
}

class RawSink implements FrameSink {
  failure: Error | undefined;
  private readonly stream: WriteStream | NodeJS.WriteStream;

  constructor(path: string) {
    if (path === '-') this.stream = process.stdout;
    else {
      closeSync(openForWrite(path, 'output')); // fail now on a bad path, not mid-render
      this.stream = createWriteStream(path);
    }
    this.stream.on('error', (err) => {
      this.failure = new SightlineError('bad_input', `cannot write output ${path}: ${err.message}`, { cause: err });
    });
  }

  write(frame: Uint8Array): Promise<void> {
    return new Promise((resolve) => this.stream.write(frame, () => resolve()));
  }

  private closing: Promise<void> | undefined;

  close(): Promise<void> {
    if (this.stream === process.stdout) return Promise.resolve();
    this.closing ??= new Promise<void>((resolve) => (this.stream as WriteStream).end(() => resolve()));
    return this.closing;
  }
}

export function isRawOutput(out: string, format?: string): boolean {
  return format === 'rgb24' || out === '-' || /\.(rgb|raw)$/i.test(out);
}

/**
 * Renders a match of `seconds` to a video file (H.264 mp4 through ffmpeg) or raw RGB24 frames, and the
 * requested truth files, as fast as the machine allows. Constant memory whatever the length.
 */
export async function writeMatch(options: WriteMatchOptions): Promise<RunResult> {
  if (!(options.seconds > 0)) throw new SightlineError('bad_input', `seconds must be > 0, got ${options.seconds}`);
  return run(options, options.seconds, undefined, () => {
    if (isRawOutput(options.out, options.format)) return new RawSink(options.out);
    closeSync(openForWrite(options.out, 'output'));
    return ffmpegSink(options, { file: options.out });
  });
}

/**
 * Streams a match live to an ffmpeg output URL, paced to real time (frame i leaves at i / fps seconds),
 * until `seconds` or the signal. If the receiver is slower than real time, ffmpeg's stdin pushes back
 * and we wait (no unbounded queue). The ffmpeg child always ends with this call.
 */
export async function streamLive(options: StreamLiveOptions): Promise<RunResult> {
  const seconds = options.seconds ?? Infinity;
  if (!(seconds > 0)) throw new SightlineError('bad_input', `seconds must be > 0, got ${seconds}`);
  return run(options, seconds, options.clock ?? wallClock, () => ffmpegSink(options, { url: options.url }));
}

function ffmpegSink(options: BroadcastOptions, target: { file: string } | { url: string }): FrameSink {
  const sink = new FfmpegSink({ widthPx: options.widthPx ?? 640, heightPx: options.heightPx ?? 360, fps: options.fps ?? 25 }, target);
  return {
    write: (f) => sink.write(f),
    get failure() {
      return sink.failure;
    },
    close: () => sink.close(),
  };
}

async function run(
  options: (WriteMatchOptions | StreamLiveOptions) & { seed: number },
  seconds: number,
  /** Paces frame i to i / fps seconds after the start on this clock; undefined: as fast as possible. */
  clock: PaceClock | undefined,
  openSink: () => FrameSink,
): Promise<RunResult> {
  const video = options.video ?? ('out' in options ? basename(options.out) : options.url);
  const truth = new TruthFiles(options, video);
  let sink: FrameSink | undefined;
  try {
    const broadcast = new SyntheticBroadcast(options.seed, { ...options, video }, truth.sinks);
    const fps = broadcast.fps;
    const totalFrames = Number.isFinite(seconds) ? Math.round(seconds * fps) : Infinity;
    sink = openSink();
    const pool = Array.from({ length: FRAMES_IN_FLIGHT }, () => new Uint8Array(broadcast.frameBytes));
    const inFlight: Promise<void>[] = pool.map(() => Promise.resolve());
    // A stalled sink must not stall shutdown: waits end at abort, and close() kills what will not finish.
    const abort = options.signal;
    const aborted = new Promise<void>((resolve) => abort?.addEventListener('abort', () => resolve(), { once: true }));
    const startMs = clock?.nowMs() ?? 0;
    let frames = 0;
    let reported = 0;
    while (frames < totalFrames && !options.signal?.aborted && !sink.failure) {
      const slot = frames % FRAMES_IN_FLIGHT;
      await Promise.race([inFlight[slot], aborted]);
      if (abort?.aborted) break;
      if (clock) {
        const waitMs = startMs + (frames * 1000) / fps - clock.nowMs();
        if (waitMs > 1) await clock.sleep(waitMs, options.signal);
        if (options.signal?.aborted) break;
      }
      broadcast.renderFrame(frames, pool[slot]);
      inFlight[slot] = sink.write(pool[slot]);
      frames++;
      const secondsDone = Math.floor(frames / fps);
      if (secondsDone > reported) options.onProgress?.((reported = secondsDone));
    }
    await sink.close();
    await Promise.all(inFlight);
    if (sink.failure && !abort?.aborted) throw sink.failure;
    const done = frames >= totalFrames ? seconds : Math.floor(frames / fps);
    broadcast.finish(done);
    return { frames, seconds: done, aborted: frames < totalFrames };
  } finally {
    await sink?.close();
    truth.close();
  }
}
