import { spawn, type ChildProcess } from 'node:child_process';
import { ffmpegPath } from '../ingest/ffmpeg-binary.js';
import { SightlineError } from '../errors.js';

export interface RawVideoFormat {
  widthPx: number;
  heightPx: number;
  fps: number;
}

/** ffmpeg arguments that read packed RGB24 frames from stdin. */
function inputArgs(f: RawVideoFormat): string[] {
  return ['-hide_banner', '-loglevel', 'error', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${f.widthPx}x${f.heightPx}`, '-r', String(f.fps), '-i', 'pipe:0'];
}

/** H.264 in yuv420p: what every player and our own ingest read. */
function encodeArgs(f: RawVideoFormat, live: boolean): string[] {
  const args = ['-an', '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-g', String(Math.round(f.fps * 2))];
  if (live) args.push('-tune', 'zerolatency');
  return args;
}

/** Container for a live URL: mpegts for udp/srt/pipes, flv for rtmp, else ffmpeg guesses. */
export function liveOutputArgs(url: string): string[] {
  if (/^rtmps?:/i.test(url)) return ['-f', 'flv', url];
  if (/^udp:/i.test(url)) return ['-f', 'mpegts', url.includes('pkt_size') ? url : `${url}${url.includes('?') ? '&' : '?'}pkt_size=1316`];
  if (/^(srt|tcp|pipe):/i.test(url) || url === '-') return ['-f', 'mpegts', url === '-' ? 'pipe:1' : url];
  return [url];
}

/**
 * One ffmpeg child that encodes frames written to `write()`. Writes resolve when ffmpeg has taken the
 * frame (stdin backpressure); `failure` is set once ffmpeg exits early, with its last stderr line.
 */
export class FfmpegSink {
  private readonly child: ChildProcess;
  private stderrTail = '';
  private exitCode: number | null | undefined;
  private readonly exited: Promise<void>;
  failure: SightlineError | undefined;

  constructor(format: RawVideoFormat, target: { file: string } | { url: string }) {
    const live = 'url' in target;
    const out = live ? liveOutputArgs(target.url) : ['-movflags', '+faststart', '-y', target.file];
    const toStdout = live && /^(pipe:1|-)$/.test(target.url);
    this.child = spawn(ffmpegPath(), [...inputArgs(format), ...encodeArgs(format, live), ...out], {
      stdio: ['pipe', toStdout ? 'inherit' : 'ignore', 'pipe'],
    });
    const name = live ? target.url : target.file;
    this.child.stderr!.on('data', (d: Buffer) => {
      this.stderrTail = (this.stderrTail + d.toString()).slice(-2000);
    });
    this.child.stdin!.on('error', () => undefined); // EPIPE when ffmpeg dies; reported through exit.
    this.exited = new Promise((resolve) => {
      const done = (code: number | null, err?: Error): void => {
        this.exitCode = code;
        if (code !== 0) {
          const last = this.stderrTail.trim().split('\n').pop() || err?.message || `exit code ${code}`;
          this.failure = new SightlineError('source_failed', `ffmpeg failed writing ${name}: ${last}`);
        }
        resolve();
      };
      this.child.once('error', (err) => done(-1, err));
      this.child.once('exit', (code, signal) => done(signal ? null : code));
    });
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  /** Resolves once ffmpeg has the bytes (or has died: check `failure`). */
  write(frame: Uint8Array): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.stdin!.write(frame, () => resolve());
    });
  }

  /** Ends input and waits for ffmpeg to finish; kills it if it has not within `graceMs`. */
  async close(graceMs = 5000): Promise<void> {
    if (this.running) this.child.stdin!.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** Stops ffmpeg at once (abort path). */
  kill(): void {
    if (this.running) this.child.kill('SIGTERM');
  }
}
