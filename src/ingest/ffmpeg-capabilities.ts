import { spawnSync } from 'node:child_process';
import { ffmpegPath } from './ffmpeg-binary.js';

/**
 * Option names that differ between the ffmpeg builds Sightline runs on: the system ffmpeg (Debian 5.1)
 * and the static 4.1 binary of the npm fallback. Read once from ffmpeg's own help text, not guessed from
 * its version string (the npm build reports a git snapshot name, not a number).
 */
export interface FfmpegCapabilities {
  /**
   * RTSP socket I/O timeout option: 'timeout' since ffmpeg 5; before that 'stimeout' (and there
   * '-timeout' meant "listen for an incoming connection", which must never be passed to a client).
   */
  rtspTimeoutOption: 'timeout' | 'stimeout';
}

let cached: FfmpegCapabilities | undefined;

export function ffmpegCapabilities(): FfmpegCapabilities {
  if (cached) return cached;
  const help = spawnSync(ffmpegPath(), ['-hide_banner', '-h', 'demuxer=rtsp'], { encoding: 'utf8', timeout: 10_000 });
  const text = `${help.stdout ?? ''}${help.stderr ?? ''}`;
  cached = { rtspTimeoutOption: /^\s*-stimeout\b/m.test(text) ? 'stimeout' : 'timeout' };
  return cached;
}
