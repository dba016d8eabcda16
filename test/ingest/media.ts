import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ffmpegPath } from '../../src/ingest/ffmpeg-binary.js';

/** Small generated test media, cached across runs under the OS temp dir (2-core CI: keep it tiny). */
export const MEDIA_DIR = join(tmpdir(), 'sightline-test-media');
mkdirSync(MEDIA_DIR, { recursive: true }); // tests also write small bad files here directly
const run = promisify(execFile);

/** Generates `name` once with the given ffmpeg arguments (output path appended); safe under parallel files. */
export async function media(name: string, args: string[]): Promise<string> {
  mkdirSync(MEDIA_DIR, { recursive: true });
  const path = join(MEDIA_DIR, name);
  if (existsSync(path)) return path;
  const partial = join(MEDIA_DIR, `.${process.pid}.${Math.random().toString(36).slice(2)}.${name}`);
  await run(ffmpegPath(), ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', ...args, partial]);
  renameSync(partial, path);
  return path;
}

const h264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-g', '30', '-pix_fmt', 'yuv420p'];

/** 60 s of testsrc, 160x90 at 30 fps, H.264 mp4 (moov at the end, as most cameras write it). */
export const testsrc60Mp4 = () => media('testsrc-60s.mp4', ['-f', 'lavfi', '-i', 'testsrc=size=160x90:rate=30:duration=60', ...h264]);

/** 20 s MPEG-TS (streamable: works through a pipe). */
export const testsrc20Ts = () => media('testsrc-20s.ts', ['-f', 'lavfi', '-i', 'testsrc=size=160x90:rate=30:duration=20', ...h264]);

/**
 * 320x180 red frame with a green band over the centre half (x 80..240): after cover-scale to 224x224
 * and centre-crop, the middle is green and both side edges red.
 */
export const bandedMp4 = () =>
  media('banded-320x180.mp4', [
    '-f', 'lavfi', '-i', 'color=c=red:size=320x180:rate=10:duration=2,drawbox=x=80:y=0:w=160:h=180:color=lime:t=fill',
    ...h264,
  ]);

/** Audio only: a valid media file without a video stream. */
export const audioOnly = () => media('sine.m4a', ['-f', 'lavfi', '-i', 'sine=duration=2']);
