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
  /** The media playlist read (a master playlist's first variant); set by probeHlsPlaylist. */
  mediaUrl?: string;
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
    if (info) return { ...info, mediaUrl: url };
    const variant = variantUrl(text, url);
    if (!variant) return undefined;
    text = await get(variant, timeoutMs);
    const variantInfo = parseMediaPlaylist(text);
    return variantInfo && { ...variantInfo, mediaUrl: variant };
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

/** The newest segment a media playlist lists, as `<media sequence number> <uri>`; changes when the origin writes. */
export function newestSegment(text: string): string | undefined {
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  const uris = lines.filter((l) => l !== '' && !l.startsWith('#'));
  if (uris.length === 0) return undefined;
  const first = Number(/^#EXT-X-MEDIA-SEQUENCE:\s*(\d+)/m.exec(text)?.[1] ?? 0);
  return `${first + uris.length - 1} ${uris.at(-1)}`;
}

/**
 * After a live HLS source drops, its origin usually still serves the last playlist: a restarted ffmpeg
 * would play the newest segment again and look live for its length, once per attempt, for as long as the
 * outage lasts. So the newest segment listed at the drop is noted, and a reconnect starts ffmpeg only once
 * the playlist lists another (or cannot be read: then ffmpeg runs and names the error).
 */
export class HlsLiveEdge {
  private atDrop: string | undefined;

  constructor(
    private readonly mediaUrl: string,
    private readonly timeoutMs: number,
  ) {}

  /** A run that delivered frames ended: note the newest segment listed now. */
  async markDrop(): Promise<void> {
    this.atDrop = await this.newest();
  }

  /** True while the playlist lists nothing newer than at the drop. */
  async staleSinceDrop(): Promise<boolean> {
    if (this.atDrop === undefined) return false;
    const now = await this.newest();
    return now !== undefined && now === this.atDrop;
  }

  private async newest(): Promise<string | undefined> {
    try {
      return newestSegment(await get(this.mediaUrl, this.timeoutMs));
    } catch {
      return undefined;
    }
  }
}
