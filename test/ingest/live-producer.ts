import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { ffmpegPath } from '../../src/ingest/ffmpeg-binary.js';

/**
 * A live stream for ingest tests: `sightline synth --live` for UDP (the synthetic match, as in the demo),
 * a lavfi testsrc ffmpeg where the producer must be the listening server (SRT listener, RTMP -listen).
 */
export interface LiveProducer {
  readonly url: string;
  /** Kills the producer (SIGKILL: a crashed camera, not a polite goodbye) and waits for it to exit. */
  kill(): Promise<void>;
}

/** A free TCP port on loopback. */
export async function freeTcpPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A free UDP port on loopback (tests only ever touch 127.0.0.1). */
export async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

/**
 * Resolves once a datagram arrives on the loopback UDP port, i.e. the producer is sending; the port is
 * free again afterwards. Tests open the ingest only then, so its short I/O timeouts measure stalls, not
 * how long node + ffmpeg take to start on a busy machine.
 */
export async function firstDatagram(port: number, timeoutMs = 60_000): Promise<void> {
  const socket = createSocket({ type: 'udp4', reuseAddr: true });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no datagram on udp port ${port} within ${timeoutMs} ms`)), timeoutMs);
      socket.once('message', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.bind(port, '127.0.0.1');
    });
  } finally {
    await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
}

/**
 * udp:// runs `sightline synth --live` (160x90, real time, MPEG-TS). srt:// and rtmp:// run a real-time
 * lavfi testsrc that is the listening server (SRT listener mode, RTMP -listen 1), so the ingest under test
 * connects to it as a camera's client would.
 */
export function startLiveProducer(url: string): LiveProducer {
  const scheme = new URL(url).protocol.replace(':', '');
  if (scheme === 'udp') {
    const synth = spawn(process.execPath, ['dist/src/cli.js', 'synth', '--seed', '2', '--live', url, '--width', '160', '--height', '90'], { stdio: 'ignore' });
    return producer(url, synth);
  }
  const output =
    scheme === 'rtmp'
      ? ['-f', 'flv', '-listen', '1', url]
      : scheme === 'srt'
        ? ['-f', 'mpegts', `${url}?mode=listener`]
        : ['-f', 'mpegts', `${url}?pkt_size=1316`];
  const child: ChildProcess = spawn(
    ffmpegPath(),
    [
      '-hide_banner', '-loglevel', 'error', '-nostdin', '-re',
      '-f', 'lavfi', '-i', 'testsrc=size=160x90:rate=25',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '25', '-pix_fmt', 'yuv420p',
      ...output,
    ],
    { stdio: 'ignore' },
  );
  return producer(url, child);
}

function producer(url: string, child: ChildProcess): LiveProducer {
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    url,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
