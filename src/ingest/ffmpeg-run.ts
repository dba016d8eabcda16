import type { Readable } from 'node:stream';
import { StderrLog } from './errors-from-stderr.js';
import { spawnFfmpeg, type FfmpegChild, type FfmpegExit } from './ffmpeg-process.js';
import { FrameReader } from './frame-reader.js';
import { ProgressParser, type ProgressBlock } from './progress.js';

/**
 * One ffmpeg process from spawn to exit: frames out of stdout, progress out of fd 3, log out of stderr,
 * and a watchdog that stops the child when no frame arrives in time (a stalled live source).
 * Reconnect policy lives above this, in source.ts; a run only reports how it ended.
 */
export interface RunOptions {
  args: string[];
  frameBytes: number;
  stdin?: Readable;
  /** Stop the run if the first frame takes longer than this (0: no limit). */
  firstFrameTimeoutMs: number;
  /** Stop the run if frames stop for this long once flowing (0: no limit). */
  stallTimeoutMs: number;
  onFrame: (rgb: Buffer) => void;
  onProgress: (block: ProgressBlock, log: StderrLog) => void;
  /** An input frame ffmpeg reported corrupt (it is skipped; the sampling grid stays whole). */
  onCorruptFrame: () => void;
}

export interface RunOutcome {
  exit: FfmpegExit;
  framesRead: number;
  /** The watchdog stopped it: no frame within the time limit. */
  stalled: boolean;
  /** stop() was called (close, seconds limit): not a failure. */
  stopped: boolean;
  elapsedMs: number;
  log: StderrLog;
}

const WATCHDOG_TICK_MS = 200;

export class FfmpegRun {
  readonly log: StderrLog;
  readonly outcome: Promise<RunOutcome>;
  private readonly child: FfmpegChild;
  private readonly startedAtMs = Date.now();
  private lastFrameAtMs = Date.now();
  private framesRead = 0;
  private stalled = false;
  private stopped = false;
  private paused = false;

  constructor(private readonly options: RunOptions) {
    this.log = new StderrLog(options.onCorruptFrame);
    this.child = spawnFfmpeg(options.args, { stdin: options.stdin });
    const reader = new FrameReader(options.frameBytes, (rgb) => {
      this.framesRead++;
      this.lastFrameAtMs = Date.now();
      options.onFrame(rgb);
    });
    const progress = new ProgressParser((block) => options.onProgress(block, this.log));
    this.child.stdout.on('data', (data: Buffer) => reader.push(data));
    this.child.stderr.on('data', (data: Buffer) => this.log.push(data));
    this.child.progress.on('data', (data: Buffer) => progress.push(data));
    for (const stream of [this.child.stdout, this.child.stderr, this.child.progress]) stream.on('error', () => {});
    const watchdog = setInterval(() => this.checkStall(), WATCHDOG_TICK_MS);
    this.outcome = this.finish(watchdog);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  private checkStall(): void {
    if (this.paused) {
      this.lastFrameAtMs = Date.now(); // we stopped reading on purpose: not the source's fault
      return;
    }
    const limitMs = this.framesRead === 0 ? this.options.firstFrameTimeoutMs : this.options.stallTimeoutMs;
    if (limitMs > 0 && Date.now() - this.lastFrameAtMs > limitMs && !this.stopped) {
      this.stalled = true;
      void this.child.stop();
    }
  }

  private async finish(watchdog: NodeJS.Timeout): Promise<RunOutcome> {
    try {
      const exit = await this.child.exited;
      // Drain what is still buffered: the last frames (read once a paused consumer catches up; the pipe
      // has no writer left, so EOF is certain) and the error lines.
      await Promise.all([ended(this.child.stdout, Infinity), ended(this.child.stderr, 2000)]);
      return {
        exit,
        framesRead: this.framesRead,
        stalled: this.stalled,
        stopped: this.stopped,
        elapsedMs: Date.now() - this.startedAtMs,
        log: this.log,
      };
    } finally {
      clearInterval(watchdog);
    }
  }

  /** Backpressure without loss (files): ffmpeg blocks on a full pipe while we don't read. */
  pause(): void {
    this.paused = true;
    this.child.stdout.pause();
  }

  resume(): void {
    this.paused = false;
    this.child.stdout.resume();
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** Ends the run on purpose (SIGTERM, then SIGKILL after a grace period). */
  async stop(): Promise<RunOutcome> {
    this.stopped = true;
    this.resume(); // a paused pipe would keep ffmpeg blocked in write() and ignore SIGTERM until SIGKILL
    await this.child.stop();
    return this.outcome;
  }
}

/** Resolves when a readable has ended or closed, with a cap so a stuck pipe can't hang shutdown. */
function ended(stream: Readable, capMs = 1000): Promise<void> {
  if (stream.readableEnded || stream.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = Number.isFinite(capMs) ? setTimeout(done, capMs) : undefined;
    function done(): void {
      clearTimeout(timer);
      resolve();
    }
    stream.once('end', done);
    stream.once('close', done);
  });
}
