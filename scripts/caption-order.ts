/**
 * Prints, per caption version, how much of the held-out retrieval set needs order to be told apart
 * (eval/caption-order.ts): order twins and the order-blind R@1 ceiling, with the clock read (same-minute
 * twins) and without (twins anywhere at the same score). Truth only, no rendering: a few seconds.
 *
 *   npx tsx scripts/caption-order.ts            # the model card's numbers (docs/retrieval-model.md)
 */
import { orderStats } from '../eval/caption-order.js';
import { HELD_OUT_RENDER, HELD_OUT_SEEDS, selectPairs, type RenderedMatch } from '../eval/retrieval-data.js';
import { CAPTION_VERSIONS, simulateTruth } from '../src/synth/index.js';

const PAIRS = 1000;
const FRAMES_PER_CLIP = 8;

for (const version of CAPTION_VERSIONS) {
  const [lo, hi] = HELD_OUT_SEEDS[version];
  const matches: RenderedMatch[] = [];
  for (let seed = lo; seed <= hi; seed++) {
    const video = `retrieval-${seed}.mp4`;
    const { captions } = simulateTruth(seed, HELD_OUT_RENDER.seconds, { video, clipSeconds: HELD_OUT_RENDER.clipSeconds, captionVersion: version });
    matches.push({ seed, video, captions });
  }
  const pairs = selectPairs(matches, HELD_OUT_RENDER, FRAMES_PER_CLIP, PAIRS);
  const captions = pairs.map((p) => p.caption);
  const clips = matches.reduce((n, m) => n + m.captions.length, 0);
  const words = captions.map((c) => c.split(/\s+/).length);
  console.log(JSON.stringify({
    captionVersion: version,
    seeds: `${lo}-${hi}`,
    clips,
    pairs: pairs.length,
    matchesForPairs: new Set(pairs.map((p) => p.seed)).size,
    sameMinute: orderStats(captions, version),
    sameScoreAnyMinute: orderStats(captions, version, false),
    words: { mean: Math.round((words.reduce((a, b) => a + b, 0) / words.length) * 10) / 10, max: Math.max(...words) },
  }));
}
