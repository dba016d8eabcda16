import type { ResolvedOptions } from './ingest-options.js';

/**
 * HLS: live or VOD, read from the playlist before ffmpeg starts (one GET, two for a master playlist).
 *
 * ffmpeg's hls demuxer reads a live playlist segment by segment as fast as segments exist: a 6 s segment
 * comes out as 12 frames at once, then nothing for 6 s. Without pacing, the stall watchdog (5 s) took that
 * silence for a drop, restarted ffmpeg, and each restart replayed the last 3 segments, so stream time ran
 * ahead of the wall clock. A live playlist therefore gets:
 *   -re                     frames at the live pace, not one segment's worth at a time
 *   -live_start_index -1    start at the newest segment (ffmpeg's default, -3, is 3 segments behind and
 *                           replays 3 segments after every reconnect)
 *   stall limit >= 3 target durations (a segment may be late by about one playlist reload)
 * A VOD playlist (#EXT-X-ENDLIST or PLAYLIST-TYPE:VOD) is read as fast as possible, as before.
 */
export interface HlsPlaylistInfo {
  live: boolean;
  targetDurationSec: number;
}

/** Parses a media playlist; undefined for a master playlist (see variantUrl). */
export function parseMediaPlaylist(text: string): HlsPlaylistInfo | undefined {
  if (/^#EXT-X-STREAM-INF/m.test(text)) return undefined;
  const ended = /^#EXT-X-ENDLIST/m.test(text) || /^#EXT-X-PLAYLIST-TYPE:\s*VOD/m.test(text);
  const target = Number(/^#EXT-X-TARGETDURATION:\s*([\d.]+)/m.exec(text)?.[1] ?? NaN);
  return { live: !ended, targetDurationSec: Number.isFinite(target) && target > 0 ? target : 10 };
}

/** A master playlist's first variant, resolved against the playlist's URL. */
export function variantUrl(text: string, base: string): string | undefined {
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  const at = lines.findIndex((l) => l.startsWith('#EXT-X-STREAM-INF'));
  const uri = at < 0 ? undefined : lines.slice(at + 1).find((l) => l !== '' && !l.startsWith('#'));
  return uri === undefined ? undefined : new URL(uri, base).href;
}

/** Reads the playlist; undefined when it can't be read (ffmpeg then reports the error in its own words). */
export async function probeHlsPlaylist(url: string, timeoutMs: number): Promise<HlsPlaylistInfo | undefined> {
  try {
    let text = await get(url, timeoutMs);
    const info = parseMediaPlaylist(text);
    if (info) return info;
    const variant = variantUrl(text, url);
    if (!variant) return undefined;
    text = await get(variant, timeoutMs);
    return parseMediaPlaylist(text);
  } catch {
    return undefined;
  }
}

async function get(url: string, timeoutMs: number): Promise<string> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return response.text();
}

/** The options for a live playlist (see the module comment); a VOD or unreadable playlist keeps them. */
export function optionsForPlaylist(o: ResolvedOptions, info: HlsPlaylistInfo | undefined): ResolvedOptions {
  if (!info?.live) return o;
  return {
    ...o,
    realtime: true,
    stallTimeoutMs: Math.max(o.stallTimeoutMs, 3 * info.targetDurationSec * 1000),
    inputOptions: { live_start_index: -1, ...o.inputOptions },
  };
}
