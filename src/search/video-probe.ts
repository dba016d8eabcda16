/**
 * ffprobe before decoding: tells a video from a non-video or unreadable file with one clear reason,
 * and gives the duration (progress bar ETA, the last clip's end). Decode errors after this still come
 * from the ingest itself.
 */
import { execFile } from 'node:child_process';
import { SightlineError } from '../errors.js';
import { ffprobePath } from '../ingest/ffmpeg-binary.js';

export interface VideoProbe {
  /** Seconds; undefined when the container does not say (e.g. some raw streams). */
  durationSec: number | undefined;
  width: number;
  height: number;
}

const PROBE_TIMEOUT_MS = 30_000;

function firstLine(stderr: string): string {
  const line = stderr.split('\n').map((l) => l.trim()).find((l) => l.length > 0) ?? 'ffprobe failed';
  // ffprobe prefixes the path; the caller names the file already.
  return line.replace(/^\[[^\]]*\]\s*/, '').replace(/^\/.*?:\s/, '');
}

export function probeVideo(path: string): Promise<VideoProbe> {
  const args = ['-v', 'error', '-show_entries', 'format=duration,format_name:stream=codec_type,width,height,duration', '-of', 'json', path];
  return new Promise((resolve, reject) => {
    execFile(ffprobePath(), args, { timeout: PROBE_TIMEOUT_MS, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) {
        const timedOut = (err as { killed?: boolean }).killed === true;
        return reject(new SightlineError(timedOut ? 'source_timeout' : 'source_not_video', `${path}: ${timedOut ? 'ffprobe timed out' : `not a readable video (${firstLine(stderr)})`}`, { cause: err }));
      }
      let parsed: { format?: { duration?: string }; streams?: { codec_type?: string; width?: number; height?: number; duration?: string }[] };
      try {
        parsed = JSON.parse(stdout);
      } catch (cause) {
        return reject(new SightlineError('source_not_video', `${path}: ffprobe output is not JSON`, { cause }));
      }
      const video = parsed.streams?.find((s) => s.codec_type === 'video' && (s.width ?? 0) > 0);
      if (!video) return reject(new SightlineError('source_no_video_stream', `${path}: has no video stream`));
      const duration = Number.parseFloat(parsed.format?.duration ?? video.duration ?? '');
      resolve({ durationSec: Number.isFinite(duration) && duration > 0 ? duration : undefined, width: video.width!, height: video.height! });
    });
  });
}
