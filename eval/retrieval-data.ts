/**
 * The held-out retrieval set of docs/retrieval-model.md ("Training data"), built the way users' videos
 * reach the model: each test match is rendered by src/synth at 640x360, 2 fps and encoded as H.264
 * (cached), then decoded by src/ingest (ffmpeg) at 2 fps scaled to the model's 256x144. Clips are the
 * world's 10 s caption clips; the pairs are the first N clips whose caption is unique, in seed and time
 * order; a clip's frames are those at the centres of F equal parts of it, indexed as training does.
 * The captions come in versions (src/synth/types.ts CaptionVersion) over the same video: each version is
 * cached beside the one H.264 file, and a version missing from the cache is simulated, not re-rendered.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
// Retrieval frames, not a commentary session: decoded straight from ingest, as src/search does when indexing.
import { simulateTruth, writeMatch, type CaptionVersion, type ClipCaption } from '../src/synth/index.js';
import { SightlineError } from '../src/errors.js';

/** How the test matches are rendered (train/configs/retrieval.json "render", "matchSeconds", "clipSeconds"). */
export interface HeldOutRender {
  seconds: number;
  widthPx: number;
  heightPx: number;
  fps: number;
  clipSeconds: number;
}

export const HELD_OUT_RENDER: HeldOutRender = { seconds: 600, widthPx: 640, heightPx: 360, fps: 2, clipSeconds: 10 };

/**
 * Held-out seeds per caption version (train/configs/retrieval*.json "seeds.test"): version 2 repeats more
 * captions within a match (a small alphabet told in order), so its 1,000 unique pairs need 18 matches, not 17;
 * version 3 (no minute) repeats still more and needs 22.
 */
export const HELD_OUT_SEEDS: Record<CaptionVersion, readonly [number, number]> = { 1: [300000, 300016], 2: [300000, 300019], 3: [300000, 300023] };

export interface RenderedMatch {
  seed: number;
  video: string;
  captions: ClipCaption[];
}

/** One clip/caption pair of the held-out set; `frames` are frame indices at the render's fps. */
export interface HeldOutPair {
  seed: number;
  video: string;
  start: number;
  end: number;
  caption: string;
  frames: number[];
}

/** Cache file of a caption version: version 1 keeps the name it had before versions existed. */
export function captionsFile(base: string, version: CaptionVersion): string {
  return version === 1 ? `${base}.captions.jsonl` : `${base}.captions-v${version}.jsonl`;
}

/**
 * Renders (once) the H.264 match and its captions of `captionVersion` into the cache folder; returns the
 * cached files. Captions depend on the seed alone, so with the video cached a missing version is simulated.
 */
export async function renderHeldOutMatch(cacheDir: string, seed: number, r: HeldOutRender, onProgress?: (secondsDone: number) => void, captionVersion: CaptionVersion = 1): Promise<RenderedMatch> {
  mkdirSync(cacheDir, { recursive: true });
  const base = join(cacheDir, `retrieval-${seed}-${r.seconds}s-${r.widthPx}x${r.heightPx}-${r.fps}fps-clip${r.clipSeconds}`);
  const video = `${base}.mp4`;
  const captionsPath = captionsFile(base, captionVersion);
  if (existsSync(video) && !existsSync(captionsPath)) {
    const truth = simulateTruth(seed, r.seconds, { video: basename(video), clipSeconds: r.clipSeconds, captionVersion });
    const tmp = `${captionsPath}.tmp`;
    writeFileSync(tmp, truth.captions.map((c) => `${JSON.stringify(c)}\n`).join(''));
    renameSync(tmp, captionsPath);
  }
  if (!existsSync(video) || !existsSync(captionsPath)) {
    // Temporary names renamed last (video last), so an interrupted render is never reused.
    const tmp = { video: `${base}.tmp.mp4`, captions: `${base}.tmp.jsonl` };
    const res = await writeMatch({
      seed,
      seconds: r.seconds,
      out: tmp.video,
      video: basename(video),
      widthPx: r.widthPx,
      heightPx: r.heightPx,
      fps: r.fps,
      clipSeconds: r.clipSeconds,
      captionVersion,
      captionsPath: tmp.captions,
      onProgress,
    });
    if (res.aborted) throw new SightlineError('internal', `render of held-out match ${seed} stopped after ${res.seconds} s`);
    renameSync(tmp.captions, captionsPath);
    renameSync(tmp.video, video);
  }
  const captions = readFileSync(captionsPath, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as ClipCaption);
  return { seed, video, captions };
}

/**
 * Frame indices of a clip [first, end) at the centres of `count` equal parts, exactly as
 * train/retrieval/train.py (Data.pixels, no jitter): floor((k + 0.5) * n / count), clamped to the clip.
 */
export function clipFrameIndices(first: number, end: number, count: number): number[] {
  const n = end - first;
  return Array.from({ length: count }, (_, k) => Math.min(first + Math.floor(((k + 0.5) * n) / count), end - 1));
}

/**
 * The first `pairs` clips (in `matches` order, then time) whose caption is unique among those chosen and
 * whose frames all exist; as train/retrieval/train.py clips_of + unique_captions.
 */
export function selectPairs(matches: readonly RenderedMatch[], r: HeldOutRender, framesPerClip: number, pairs: number): HeldOutPair[] {
  const seen = new Set<string>();
  const out: HeldOutPair[] = [];
  const totalFrames = Math.round(r.seconds * r.fps);
  for (const m of matches) {
    for (const c of m.captions) {
      const a = Math.round(c.start * r.fps);
      const b = Math.round(c.end * r.fps);
      if (b > totalFrames || b - a < framesPerClip || seen.has(c.caption)) continue;
      seen.add(c.caption);
      out.push({ seed: m.seed, video: m.video, start: c.start, end: c.end, caption: c.caption, frames: clipFrameIndices(a, b, framesPerClip) });
      if (out.length === pairs) return out;
    }
  }
  return out;
}
