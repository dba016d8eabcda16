/**
 * Video file -> fixed-length clips of model-ready frames, through the ingest (one ffmpeg child).
 *
 * Clip c covers [c * L, min((c + 1) * L, duration)). The model wants F frames per clip at the centres
 * of F equal parts, i.e. at times (k + 0.5) * P for k = 0, 1, ... over the whole video (P = L / F). The
 * ingest samples with ffmpeg's `fps=1/P` filter, which keeps, for output frame k, the LAST input frame
 * of the interval [(k - 0.5) * P, (k + 0.5) * P): the frame at or just before (k + 0.5) * P, the
 * centre of part k (at most one input frame early; test/search/clip-reader.test.ts measures it on a
 * video whose brightness encodes time). So frame k belongs to clip floor(k / F). A last, shorter clip keeps the grid frames that fall inside it (the
 * video tower takes any frame count); a video too short for one grid frame yields no clip.
 */
import { SightlineError } from '../errors.js';
import { openSource } from '../ingest/index.js';

export interface ClipPlan {
  clipSeconds: number;
  framesPerClip: number;
  width: number;
  height: number;
  /** How frames are fitted to width x height (the encoder's preprocessing; default 'cover'). */
  fit?: 'cover' | 'stretch';
  /** ffmpeg decoder threads (0: ffmpeg decides, one per core). */
  decoderThreads?: number;
}

export interface DecodedClip {
  index: number;
  startSec: number;
  endSec: number;
  /** Time of the clip's last sampled frame. */
  lastFrameSec: number;
  /** `frames` packed RGB24 frames, width x height. */
  rgb: Uint8Array;
  frames: number;
  width: number;
  height: number;
}

/**
 * Offline indexing wants throughput, not the least CPU per stream-second that live ingest tunes for:
 * decode is most of the work (bench/search-index.ts), so ffmpeg gets all cores (0 = one per core).
 */
export const DEFAULT_INDEX_DECODER_THREADS = 0;

export function frameTimeSec(k: number, plan: ClipPlan): number {
  return ((k + 0.5) * plan.clipSeconds) / plan.framesPerClip;
}

/**
 * Yields clips in order. `durationSec` (from the probe) bounds the last clip; when unknown, the last
 * clip ends half a frame spacing after its last frame.
 */
export async function* readClips(path: string, plan: ClipPlan, durationSec: number | undefined, signal?: AbortSignal): AsyncGenerator<DecodedClip> {
  const { clipSeconds: L, framesPerClip: F, width, height } = plan;
  const spacing = L / F;
  const frameBytes = width * height * 3;
  const source = openSource(`file:${path}`, {
    fps: F / L,
    width,
    height,
    fit: plan.fit,
    backpressure: 'wait',
    decoderThreads: plan.decoderThreads ?? DEFAULT_INDEX_DECODER_THREADS,
    signal,
  });
  let current: { index: number; frames: Uint8Array[] } | undefined;
  const finish = (c: { index: number; frames: Uint8Array[] }, last: boolean): DecodedClip => {
    const rgb = new Uint8Array(c.frames.length * frameBytes);
    c.frames.forEach((f, i) => rgb.set(f, i * frameBytes));
    const startSec = c.index * L;
    const lastFrameSec = frameTimeSec(c.index * F + c.frames.length - 1, plan);
    const naturalEnd = startSec + L;
    const endSec = last ? Math.min(naturalEnd, durationSec ?? lastFrameSec + spacing / 2) : naturalEnd;
    return { index: c.index, startSec, endSec: Math.max(endSec, lastFrameSec), lastFrameSec, rgb, frames: c.frames.length, width, height };
  };
  try {
    for await (const chunk of source) {
      for (const frame of chunk.frames) {
        const k = Math.round(frame.ptsSec * (F / L));
        // ffmpeg's fps filter may repeat the last picture past the end: keep the grid inside the video.
        if (durationSec !== undefined && frameTimeSec(k, plan) >= durationSec) continue;
        const clip = Math.floor(k / F);
        if (current && clip !== current.index) {
          yield finish(current, false);
          current = undefined;
        }
        current ??= { index: clip, frames: [] };
        current.frames.push(frame.rgb.slice());
      }
    }
    if (current) yield finish(current, true);
  } catch (err) {
    if (err instanceof SightlineError) throw err;
    throw new SightlineError('source_failed', `${path}: decoding failed (${(err as Error).message})`, { cause: err });
  } finally {
    await source.close();
  }
}

/**
 * Decodes `video` through the ingest at `fps`, scaled to width x height, and keeps the frames whose index
 * (round(pts x fps)) is in `wanted`. Fails naming the video if one of them never arrives.
 */
export async function decodeFrames(video: string, wanted: ReadonlySet<number>, o: { fps: number; width: number; height: number }): Promise<Map<number, Uint8Array>> {
  const got = new Map<number, Uint8Array>();
  const source = openSource(video, { fps: o.fps, width: o.width, height: o.height });
  try {
    for await (const chunk of source) {
      for (const f of chunk.frames) {
        const index = Math.round(f.ptsSec * o.fps);
        if (wanted.has(index) && !got.has(index)) got.set(index, f.rgb.slice());
      }
    }
  } finally {
    await source.close();
  }
  const missing = [...wanted].filter((i) => !got.has(i));
  if (missing.length > 0) {
    throw new SightlineError('source_corrupt', `${video}: ${missing.length} of ${wanted.size} clip frames were not decoded (first missing: frame ${Math.min(...missing)})`);
  }
  return got;
}
