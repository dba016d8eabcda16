/**
 * `sightline serve --demo`: a synthetic live match fed through the real ingest path. A child process
 * runs `sightline synth --live udp://127.0.0.1:<port>` (real-time H.264 over MPEG-TS, as a camera or an
 * encoder would send it) and the server commentates that URL like any other stream. The child is
 * internal, so the stream is created directly, not through the public source policy.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { fileURLToPath } from 'node:url';
import type { RunningServer } from '../server/app.js';

export interface Demo {
  streamId: string;
  pageUrl: string;
  stop(): Promise<void>;
}

/** A UDP port free right now on loopback (ffmpeg binds it again a moment later). */
async function freeUdpPort(): Promise<number> {
  const sock = createSocket('udp4');
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
  const { port } = sock.address();
  await new Promise<void>((resolve) => sock.close(() => resolve()));
  return port;
}

function startMatch(url: string, seed: number): ChildProcess {
  const cli = fileURLToPath(new URL('../cli.js', import.meta.url));
  return spawn(process.execPath, [cli, 'synth', '--live', url, '--seed', String(seed)], { stdio: ['ignore', 'ignore', 'inherit'] });
}

export async function startDemo(server: RunningServer, seed: number): Promise<Demo> {
  const url = `udp://127.0.0.1:${await freeUdpPort()}`;
  let stopping = false;
  let match = startMatch(url, seed);
  // A match that dies is restarted; ingest reconnects on its own, as with any live source that drops.
  const restart = (): void => {
    if (stopping) return;
    setTimeout(() => {
      if (stopping) return;
      match = startMatch(url, seed);
      match.once('exit', restart);
    }, 1000).unref();
  };
  match.once('exit', restart);
  // Not resumed after a crash: the match is this process's child and dies with it.
  const stream = await server.manager.create(url, 2, undefined, undefined, { resume: false });
  const pageUrl = `${server.url}/#/stream/${stream.meta.id}`;
  process.stdout.write(`demo: synthetic match (seed ${seed}) streaming live to ${url}\ndemo: watch it at ${pageUrl}\n`);
  return {
    streamId: stream.meta.id,
    pageUrl,
    async stop() {
      stopping = true;
      await server.manager.stop(stream.meta.id).catch(() => undefined);
      if (match.exitCode === null && match.signalCode === null) {
        const exited = new Promise((resolve) => match.once('exit', resolve));
        match.kill('SIGTERM');
        await exited;
      }
    },
  };
}
