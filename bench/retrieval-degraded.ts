/**
 * How much do the retrieval metrics move when only the pixels of the held-out clips change? The same 1,000
 * pairs as `sightline eval retrieval`, but frames rendered raw and degraded the way training degraded them
 * (train/vlm/data.py: JPEG quality 30-90 at 640x360, a random resize filter to 256x144, brightness x0.9-1.1,
 * Gaussian noise sigma 0-4), here with sharp (libvips) and a seeded JS generator, so "training-style", not
 * bit-identical to OpenCV + numpy. Two draws with different seeds measure the spread due to the
 * degradation draws alone; compare with the H.264 run (reports/retrieval/retrieval.json) and the card.
 *
 *   npx tsx bench/retrieval-degraded.ts [--draws 2] [--pairs 1000] [--json FILE]
 *
 * Only the frames the clips use are drawn (8 of every 20), so this is cheaper than the H.264 path.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { HELD_OUT_RENDER, selectPairs, type RenderedMatch } from '../eval/retrieval-data.js';
import { diagonalRanks, similarityMatrix, summariseRanks, type RetrievalMetrics } from '../eval/retrieval-metrics.js';
import { createEncoderRuntime, embedPackedClips, loadRetrievalModelFolder, stackRows } from '../src/model/index.js';
import { createMatch, Rng, simulateTruth, WORLD_HZ } from '../src/synth/index.js';

const { values } = parseArgs({
  options: {
    draws: { type: 'string', default: '2' },
    pairs: { type: 'string', default: '1000' },
    seeds: { type: 'string', default: '300000-300016' },
    json: { type: 'string' },
  },
});
const [lo, hi] = values.seeds!.split('-').map(Number);
const seeds = Array.from({ length: (hi ?? lo) - lo + 1 }, (_, i) => lo + i);
const r = HELD_OUT_RENDER;
// The shipped model, and its mean-pooling baseline where restored (scripts/restore-model.sh sightline-retrieval-meanpool-v1).
const MODELS = [join(import.meta.dirname, '..', 'models', 'sightline-retrieval-v1'), join(import.meta.dirname, '..', '.cache', 'models', 'sightline-retrieval-meanpool-v1')].filter((m) => existsSync(m));
const KERNELS = ['linear', 'cubic', 'lanczos3'] as const; // OpenCV's bilinear, bicubic; lanczos3 stands in for INTER_AREA

async function degrade(raw: Uint8Array, rng: Rng, out: Uint8Array, at: number): Promise<void> {
  const q = 30 + rng.int(61);
  const jpeg = await sharp(raw, { raw: { width: r.widthPx, height: r.heightPx, channels: 3 } }).jpeg({ quality: q }).toBuffer();
  const kernel = KERNELS[rng.int(3)];
  const small = await sharp(jpeg).resize(256, 144, { kernel, fit: 'fill' }).removeAlpha().raw().toBuffer();
  const gain = 0.9 + 0.2 * rng.next();
  const sigma = 4 * rng.next();
  for (let i = 0; i < small.length; i++) out[at + i] = Math.max(0, Math.min(255, Math.trunc(small[i] * gain + rng.normal(sigma))));
}

const t0 = performance.now();
// Pairs from the world's truth alone (no pixels), as the H.264 run selects them.
const matches: RenderedMatch[] = seeds.map((seed) => ({ seed, video: `synth-${seed}`, captions: simulateTruth(seed, r.seconds, { clipSeconds: r.clipSeconds, aspect: r.widthPx / r.heightPx }).captions }));
const pairs = selectPairs(matches, r, 8, Number(values.pairs));
const draws = Number(values.draws);
const frameBytes = 256 * 144 * 3;
const frames = Array.from({ length: draws }, () => new Uint8Array(pairs.length * 8 * frameBytes));
for (const seed of new Set(pairs.map((p) => p.seed))) {
  const mine = pairs.map((p, i) => ({ p, i })).filter(({ p }) => p.seed === seed);
  const wanted = new Map<number, Array<[number, number]>>(); // frame -> [(pair, slot)]
  for (const { p, i } of mine) p.frames.forEach((f, k) => wanted.set(f, [...(wanted.get(f) ?? []), [i, k]]));
  const b = createMatch(seed, { widthPx: r.widthPx, heightPx: r.heightPx, fps: r.fps, clipSeconds: r.clipSeconds });
  const raw = new Uint8Array(b.frameBytes);
  const rngs = Array.from({ length: draws }, (_, d) => new Rng(seed * 7919 + d));
  const last = Math.max(...wanted.keys());
  for (let f = 0; f <= last; f++) {
    if (!wanted.has(f)) {
      b.timeline.advanceToTick(Math.round((f / r.fps) * WORLD_HZ));
      continue;
    }
    b.renderFrame(f, raw);
    for (let d = 0; d < draws; d++) {
      const at = (wanted.get(f)![0][0] * 8 + wanted.get(f)![0][1]) * frameBytes;
      await degrade(raw, rngs[d], frames[d], at);
      for (const [i, k] of wanted.get(f)!.slice(1)) frames[d].copyWithin((i * 8 + k) * frameBytes, at, at + frameBytes);
    }
  }
  process.stderr.write(`seed ${seed}: ${mine.length} clips drawn (${((performance.now() - t0) / 1000).toFixed(0)} s)\n`);
}

const results: Array<{ model: string; draw: number; metrics: RetrievalMetrics }> = [];
for (const dir of MODELS) {
  const spec = loadRetrievalModelFolder(dir);
  const enc = await createEncoderRuntime(spec, 2);
  try {
    const texts = stackRows(await enc.embedTexts(pairs.map((p) => p.caption)));
    for (let d = 0; d < draws; d++) {
      const videos = new Float32Array(pairs.length * enc.embedDim);
      for (let at = 0; at < pairs.length; at += 4) {
        const n = Math.min(4, pairs.length - at);
        videos.set(await embedPackedClips(enc, frames[d].subarray(at * 8 * frameBytes, (at + n) * 8 * frameBytes), n, 8), at * enc.embedDim);
      }
      const sim = similarityMatrix(texts, videos, enc.embedDim);
      const n = pairs.length;
      const metrics = { textToVideo: summariseRanks(diagonalRanks(sim, n, 'textToVideo')), videoToText: summariseRanks(diagonalRanks(sim, n, 'videoToText')) };
      results.push({ model: spec.name, draw: d, metrics });
      process.stderr.write(`${spec.name} draw ${d}: t2v R@1 ${metrics.textToVideo.r1.toFixed(1)} R@5 ${metrics.textToVideo.r5.toFixed(1)}; v2t R@1 ${metrics.videoToText.r1.toFixed(1)} R@5 ${metrics.videoToText.r5.toFixed(1)}\n`);
    }
  } finally {
    await enc.release();
  }
}
console.table(results.map((x) => ({ model: x.model, draw: x.draw, t2vR1: x.metrics.textToVideo.r1, t2vR5: x.metrics.textToVideo.r5, t2vMnR: x.metrics.textToVideo.meanRank, v2tR1: x.metrics.videoToText.r1, v2tR5: x.metrics.videoToText.r5, v2tMnR: x.metrics.videoToText.meanRank })));
console.log(`${pairs.length} pairs, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
if (values.json) writeFileSync(values.json, JSON.stringify({ pairs: pairs.length, results }, null, 1));
