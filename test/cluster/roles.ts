/** `sightline worker` / `gateway` as separate processes (the built CLI), for the cluster tests and benches. */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const CLI = 'dist/src/cli.js';
export const TINY_MODEL = 'test/fixtures/models/tiny-random-1l';

export interface Role {
  child: ChildProcess;
  /** The gateway's URL (workers: empty). */
  url: string;
  /** Everything the process wrote to stderr (its JSON log), for failure messages. */
  log(): string;
  /** kill -9 and wait for the exit. */
  kill(): Promise<void>;
  /** SIGTERM (a worker stops its sessions and their ffmpeg), kill -9 if still there after 10 s. */
  stop(): Promise<void>;
}

/** The roles' TMPDIR (a gateway's scratch folder lives there; one killed with -9 cannot remove its own). */
let scratch: string | undefined;

/** Removes the scratch left by roles killed with -9 (call once they are all gone). */
export function removeRoleScratch(): void {
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  scratch = undefined;
}

async function startRole(args: string[], env: Record<string, string> = {}): Promise<Role> {
  scratch ??= fs.mkdtempSync(path.join(os.tmpdir(), 'sightline-roles-'));
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TMPDIR: scratch, ...env } });
  let err = '';
  child.stderr!.on('data', (d) => (err += d.toString()));
  const exited = new Promise((r) => child.once('exit', r));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d.toString();
      const line = /^sightline (?:gateway at (\S+)|worker \S+) on /m.exec(out);
      if (line) resolve(line[1] ?? '');
    });
    child.once('exit', (code) => reject(new Error(`${args[0]} exited with ${code}: ${err}`)));
  });
  return {
    child,
    url,
    log: () => err,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** A worker on the tiny fixture model, one engine thread, at most `maxStreams` streams; logs at info (kept for failure messages). */
export function startWorker(nats: string, id: string, maxStreams: number, leaseMs = 3000): Promise<Role> {
  return startRole(['worker', '--nats', nats, '--id', id, '--model', TINY_MODEL, '--workers', '1', '--max-streams', String(maxStreams)], { SIGHTLINE_LEASE_MS: String(leaseMs), SIGHTLINE_LOG_LEVEL: 'info' });
}

export function startGateway(nats: string, fileRoot: string, leaseMs = 3000): Promise<Role> {
  return startRole(['gateway', '--nats', nats, '--port', '0', '--no-search', '--file-root', fileRoot], { SIGHTLINE_LEASE_MS: String(leaseMs), SIGHTLINE_LOG_LEVEL: 'warn' });
}
