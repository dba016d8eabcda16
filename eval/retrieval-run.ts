/**
 * `eval retrieval`: embeds the held-out pairs (retrieval-data.ts) with each model folder, builds the full
 * caption x clip similarity matrix and scores it (retrieval-metrics.ts). Matches are processed one at a
 * time (render if not cached, decode, embed its clips with every model) while the next one renders, so
 * memory holds one match's clip frames, never the whole set.
 */
import { decodeFrames } from '../src/search/index.js';
import { renderHeldOutMatch, selectPairs, type HeldOutPair, type HeldOutRender, type RenderedMatch } from './retrieval-data.js';
import { diagonalRanks, similarityMatrix, summariseRanks, type RetrievalMetrics } from './retrieval-metrics.js';
import { SightlineError } from '../src/errors.js';
import type { CaptionVersion } from '../src/synth/index.js';
import { createEncoderRuntime, embedPackedClips, loadRetrievalModelFolder, stackRows, type EncoderRuntime, type EncoderSpec } from '../src/model/index.js';

/** A model under evaluation: the search core's folder reading and onnxruntime encoder, so eval measures what search runs. */
interface EvalEncoder {
  spec: EncoderSpec;
  runtime: EncoderRuntime;
}

export interface RetrievalEvalOptions {
  modelDirs: string[];
  seeds: number[];
  /** Pairs wanted: the set stops there. */
  pairs: number;
  /** Fewer pairs than `pairs` in all the seeds: an error (default), or, when false, evaluate what there is. */
  requireAllPairs?: boolean;
  render: HeldOutRender;
  /** Which captions the pairs use (default 1); the clips' video is the same for every version. */
  captionVersion?: CaptionVersion;
  cacheDir: string;
  threads?: number;
  onProgress?(p: RetrievalProgress): void;
}

export interface RetrievalProgress {
  stage: 'render' | 'decode' | 'embed' | 'score';
  seed?: number;
  /** Clips embedded by every model so far, of `total`. */
  done: number;
  total: number;
}

export interface ModelResult {
  dir: string;
  name: string;
  variant?: string;
  metrics: RetrievalMetrics;
  /** Row-major [pairs x pairs]: caption i x clip j. */
  similarity: Float32Array;
  textToVideoRanks: Int32Array;
  videoToTextRanks: Int32Array;
  embedSeconds: number;
}

export interface RetrievalEvalResult {
  pairs: HeldOutPair[];
  /** Caption clips rendered in the matches read (before the unique-caption filter). */
  clipsRendered: number;
  models: ModelResult[];
  seconds: { total: number; renderAndDecode: number };
}

export async function evaluateRetrieval(o: RetrievalEvalOptions): Promise<RetrievalEvalResult> {
  const t0 = performance.now();
  // Load (and so validate) every model before any rendering: a bad folder fails in a second.
  const encoders: EvalEncoder[] = [];
  try {
    for (const dir of o.modelDirs) {
      const spec = loadRetrievalModelFolder(dir);
      encoders.push({ spec, runtime: await createEncoderRuntime(spec, o.threads ?? 2) });
    }
    const v = encoders[0].spec;
    for (const { spec: ev } of encoders) {
      if (ev.imageWidth !== v.imageWidth || ev.imageHeight !== v.imageHeight || ev.framesPerClip !== v.framesPerClip || ev.clipSeconds !== o.render.clipSeconds) {
        throw new SightlineError('bad_input', `${ev.dir}: clips of ${ev.clipSeconds} s, ${ev.framesPerClip} frames of ${ev.imageWidth}x${ev.imageHeight}; the held-out set uses ${o.render.clipSeconds} s clips and models evaluated together must share frame size and count`);
      }
    }

    // Matches are rendered lazily in seed order until the pairs are complete.
    const total = o.pairs;
    const rendered: RenderedMatch[] = [];
    const embeds = encoders.map(() => [] as Float32Array[]);
    const embedMs = encoders.map(() => 0);
    let pairs: HeldOutPair[] = [];
    let done = 0;
    let mediaMs = 0;
    const render = (seed: number): Promise<RenderedMatch> =>
      renderHeldOutMatch(o.cacheDir, seed, o.render, () => o.onProgress?.({ stage: 'render', seed, done, total }), o.captionVersion ?? 1);
    let next: Promise<RenderedMatch> | undefined = o.seeds.length > 0 ? render(o.seeds[0]) : undefined;
    for (let i = 0; i < o.seeds.length && next; i++) {
      const seed = o.seeds[i];
      const tm = performance.now();
      const match = await next;
      // Start rendering the next match now: it runs on the JS thread while ffmpeg and onnxruntime work.
      next = i + 1 < o.seeds.length ? render(o.seeds[i + 1]) : undefined;
      next?.catch(() => undefined); // observed when awaited; avoid an unhandled rejection meanwhile
      rendered.push(match);
      const before = pairs.length;
      pairs = selectPairs(rendered, o.render, v.framesPerClip, o.pairs);
      const mine = pairs.slice(before);
      if (mine.length > 0) {
        o.onProgress?.({ stage: 'decode', seed, done, total });
        const frames = await decodeFrames(match.video, new Set(mine.flatMap((p) => p.frames)), { fps: o.render.fps, width: v.imageWidth, height: v.imageHeight });
        mediaMs += performance.now() - tm;
        const frameBytes = v.imageWidth * v.imageHeight * 3;
        const batch = 4;
        for (let at = 0; at < mine.length; at += batch) {
          const clips = mine.slice(at, at + batch);
          const rgb = new Uint8Array(clips.length * v.framesPerClip * frameBytes);
          clips.forEach((p, c) => p.frames.forEach((f, k) => rgb.set(frames.get(f)!, (c * v.framesPerClip + k) * frameBytes)));
          for (let m = 0; m < encoders.length; m++) {
            const te = performance.now();
            embeds[m].push(await embedPackedClips(encoders[m].runtime, rgb, clips.length, v.framesPerClip));
            embedMs[m] += performance.now() - te;
          }
          done += clips.length;
          o.onProgress?.({ stage: 'embed', seed, done, total });
        }
      }
      if (pairs.length === o.pairs) break;
    }
    await next?.catch(() => undefined);
    if (pairs.length < o.pairs && (o.requireAllPairs ?? true)) {
      throw new SightlineError('bad_input', `held-out set: only ${pairs.length} clips with unique captions in seeds ${o.seeds[0]}-${o.seeds.at(-1)}, ${o.pairs} asked for`);
    }

    o.onProgress?.({ stage: 'score', done, total });
    const n = pairs.length;
    const captions = pairs.map((p) => p.caption);
    const models: ModelResult[] = [];
    for (let m = 0; m < encoders.length; m++) {
      const { spec, runtime } = encoders[m];
      const te = performance.now();
      const texts = stackRows(await runtime.embedTexts(captions));
      embedMs[m] += performance.now() - te;
      const videos = stackRows(embeds[m]);
      const similarity = similarityMatrix(texts, videos, runtime.embedDim);
      const textToVideoRanks = diagonalRanks(similarity, n, 'textToVideo');
      const videoToTextRanks = diagonalRanks(similarity, n, 'videoToText');
      models.push({
        dir: spec.dir,
        name: spec.name,
        variant: spec.variant,
        metrics: { textToVideo: summariseRanks(textToVideoRanks), videoToText: summariseRanks(videoToTextRanks) },
        similarity,
        textToVideoRanks,
        videoToTextRanks,
        embedSeconds: embedMs[m] / 1000,
      });
    }
    const clipsRendered = rendered.reduce((a, m) => a + m.captions.length, 0);
    return { pairs, clipsRendered, models, seconds: { total: (performance.now() - t0) / 1000, renderAndDecode: mediaMs / 1000 } };
  } finally {
    await Promise.all(encoders.map((e) => e.runtime.release()));
  }
}
