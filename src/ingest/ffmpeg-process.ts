import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { ffmpegPath } from './ffmpeg-binary.js';

/**
 * One ffmpeg child: stdout carries raw frames, stderr the log, fd 3 the -progress blocks.
 * Every child is registered until it exits, so a process 'exit' hook can SIGKILL whatever is left
 * (no ffmpeg outlives Sightline even when a caller forgets close()).
 */
const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}

/** Children still running (for tests and diagnostics). */
export function runningFfmpegCount(): number {
  return running.size;
}

export interface FfmpegExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface FfmpegChild {
  readonly pid: number | undefined;
  readonly stdout: Readable;
  readonly stderr: Readable;
  readonly progress: Readable;
  /** Resolves once the child has exited (or failed to spawn). */
  readonly exited: Promise<FfmpegExit>;
  /** SIGTERM (ffmpeg finishes cleanly), then SIGKILL after `graceMs`; resolves once the child is gone. */
  stop(graceMs?: number): Promise<FfmpegExit>;
}

/** Default grace between SIGTERM and SIGKILL. */
export const DEFAULT_KILL_GRACE_MS = 1500;

/** `stdin`: a Readable to pipe into ffmpeg (the "-" source), else ffmpeg's stdin is closed. */
export function spawnFfmpeg(args: string[], options: { stdin?: 'inherit' | 'ignore' | Readable } = {}): FfmpegChild {
  installExitHook();
  const stdinMode = options.stdin ?? 'ignore';
  const child = spawn(ffmpegPath(), args, {
    stdio: [typeof stdinMode === 'string' ? stdinMode : 'pipe', 'pipe', 'pipe', 'pipe'],
  });
  running.add(child);
  if (typeof stdinMode !== 'string' && child.stdin) {
    stdinMode.pipe(child.stdin);
    child.stdin.on('error', () => {}); // EPIPE once ffmpeg exits: expected
  }
  const exited = new Promise<FfmpegExit>((resolve) => {
    const done = (code: number | null, signal: NodeJS.Signals | null) => {
      running.delete(child);
      if (typeof stdinMode !== 'string' && child.stdin) stdinMode.unpipe(child.stdin);
      resolve({ code, signal });
    };
    child.once('exit', done);
    child.once('error', () => done(-1, null)); // spawn failure: no 'exit' will follow
  });
  const progress = child.stdio[3] as Readable;

  const stop = async (graceMs = DEFAULT_KILL_GRACE_MS): Promise<FfmpegExit> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    }
    return exited;
  };

  return { pid: child.pid, stdout: child.stdout!, stderr: child.stderr!, progress, exited, stop };
}
