import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join, normalize } from 'node:path';
import { findBinary } from '../../src/ingest/ffmpeg-binary.js';
import type { Frame } from '../../src/ingest/index.js';
import type { LiveProducer } from './live-producer.js';

/**
 * Real protocol servers and publishers on 127.0.0.1 for test/ingest/protocols.test.ts, all plain ffmpeg
 * processes (the binary Sightline picks, see src/ingest/ffmpeg-binary.ts):
 *
 *   protocol  who listens                          producer ffmpeg
 *   rtmp      producer (`-f flv -listen 1`)         serves one player, ingest connects as a client
 *   srt       producer (`?mode=listener`)           ingest connects as a caller
 *   rtsp      ingest (`-rtsp_flags listen`)         publishes with ANNOUNCE/RECORD (`-f rtsp`)
 *   hls       node http server over a folder        writes the folder (`-f hls`)
 *
 * Each producer generation shows one solid colour, so a test can tell the frames after a recovery from
 * the frames before the drop (and from a stale replay) by looking at the picture.
 */
export type Colour = 'red' | 'blue';

/** A real-time solid-colour H.264 stream, a keyframe every second (so HLS segments are 1 s). */
function encode(colour: Colour): string[] {
  return [
    '-hide_banner', '-loglevel', 'error', '-nostdin', '-re',
    '-f', 'lavfi', '-i', `color=c=${colour}:size=160x90:rate=25`,
    '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '25', '-pix_fmt', 'yuv420p',
  ];
}

/** A URL (rtmp, srt, rtsp) or an HLS folder (segments of `segmentSec`, default 1). */
export type ProducerTarget = { url: string } | { hlsDir: string; segmentSec?: number };

/** The producer's output arguments. */
function outputArgs(target: ProducerTarget): string[] {
  if ('hlsDir' in target) {
    return [
      '-f', 'hls', '-hls_time', String(target.segmentSec ?? 1), '-hls_list_size', '4', '-hls_flags', 'delete_segments',
      '-hls_segment_filename', join(target.hlsDir, 'seg%d.ts'), join(target.hlsDir, 'index.m3u8'),
    ];
  }
  const scheme = new URL(target.url).protocol.replace(':', '');
  if (scheme === 'rtmp') return ['-f', 'flv', '-listen', '1', target.url];
  if (scheme === 'srt') return ['-f', 'mpegts', `${target.url}?mode=listener`];
  if (scheme === 'rtsp') return ['-f', 'rtsp', '-rtsp_transport', 'tcp', target.url];
  throw new Error(`no producer for ${target.url}`);
}

/**
 * Starts a producer ffmpeg and starts it again whenever it exits (a publisher that finds no listener yet,
 * a listener whose one client went away) until kill(): the camera keeps trying, as real ones do.
 */
export function startProducer(target: ProducerTarget, colour: Colour): LiveProducer {
  const args = [...encode(colour), ...outputArgs(target)];
  let child: ChildProcess | undefined;
  let killed = false;
  let respawn: NodeJS.Timeout | undefined;
  let exited: Promise<void> = Promise.resolve();
  const start = (): void => {
    const current = spawn(findBinary('ffmpeg').path, args, { stdio: 'ignore' });
    child = current;
    exited = new Promise((resolve) => current.once('exit', () => resolve()));
    current.once('exit', () => {
      if (!killed) respawn = setTimeout(start, 300);
    });
  };
  start();
  return {
    url: 'url' in target ? target.url : target.hlsDir,
    async kill() {
      killed = true;
      clearTimeout(respawn);
      if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/**
 * Resolves once something listens on the loopback port (TCP in LISTEN state, or a bound UDP socket), read
 * from /proc/net so that the check never takes the one connection a `-listen 1` server accepts.
 */
export async function listening(port: number, proto: 'tcp' | 'udp', timeoutMs = 30_000): Promise<void> {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = readFileSync(`/proc/net/${proto}`, 'utf8').split('\n').slice(1);
    const found = rows.some((row) => {
      const [, local, , state] = row.trim().split(/\s+/);
      return local?.endsWith(`:${hex}`) && (proto === 'udp' || state === '0A');
    });
    if (found) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${proto} port ${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Resolves once `path` exists (the HLS producer wrote its first playlist). */
export async function fileExists(path: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (Date.now() > deadline) throw new Error(`${path} not written after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A static file server for one folder on 127.0.0.1 (an HLS origin); 404 for anything else. */
export async function serveFolder(dir: string): Promise<{ baseUrl: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const path = normalize(join(dir, decodeURIComponent(new URL(req.url!, 'http://x').pathname)));
    if (!path.startsWith(dir) || !existsSync(path)) return void res.writeHead(404).end();
    const type = path.endsWith('.m3u8') ? 'application/vnd.apple.mpegurl' : 'video/mp2t';
    res.writeHead(200, { 'content-type': type, 'cache-control': 'no-cache' });
    createReadStream(path).on('error', () => res.destroy()).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Which producer colour a frame shows, from its centre pixel (H.264 keeps a solid colour close). */
export function colourOf(frame: Frame): Colour | 'other' {
  const i = (Math.floor(frame.height / 2) * frame.width + Math.floor(frame.width / 2)) * 3;
  const [r, g, b] = [frame.rgb[i], frame.rgb[i + 1], frame.rgb[i + 2]];
  if (r > 150 && g < 80 && b < 80) return 'red';
  if (b > 150 && r < 80 && g < 80) return 'blue';
  return 'other';
}

/**
 * Fails (never skips) when the ffmpeg Sightline runs lacks a protocol, naming the binary and what to do:
 * the npm fallback (static 4.1) is built without libsrt.
 */
export function requireProtocol(protocol: string): void {
  const ffmpeg = findBinary('ffmpeg');
  const listed = execFileSync(ffmpeg.path, ['-hide_banner', '-protocols'], { encoding: 'utf8' }).split(/\s+/);
  if (!listed.includes(protocol)) {
    throw new Error(
      `${ffmpeg.path} (${ffmpeg.origin} ffmpeg ${ffmpeg.version}) has no ${protocol} protocol` +
        `${protocol === 'srt' ? ' (built without libsrt)' : ''}: install an ffmpeg that has it (Debian's does) ` +
        'or point SIGHTLINE_FFMPEG at one',
    );
  }
}
