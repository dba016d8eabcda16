/**
 * Out-of-domain signal of a commentator: how far a second's visual tokens lie from the world the model was
 * trained on. A commentator that sees a street scene still says "Yellow's number 7 shoots!"; this score
 * lets the engine stay silent instead and the stream say `out_of_domain`.
 *
 * The statistics (a probabilistic PCA of frame features pooled from the vision encoder's tokens) live in
 * `ood.json` beside the model, fitted on training-world matches and with a threshold chosen on other
 * matches by `sightline eval ood` (eval/ood-calibration.ts). A model folder
 * without that file has no signal: the engine then never gates (models users bring).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { SightlineError } from '../errors.js';

export const OOD_FILE = 'ood.json';

export const OodStatsSchema = z.object({
  format: z.literal('sightline-ood'),
  version: z.literal(1),
  /** One line for users: what the model was trained on (shown by the README, the stream JSON and the page). */
  domain: z.string().min(1),
  hiddenSize: z.number().int().positive(),
  /** Visual tokens per frame: a second's rows split into frames of this many. */
  tokensPerFrame: z.number().int().positive(),
  /** Mean of the frame features (2 x hiddenSize: the mean, then the deviation, of each feature over the frame's tokens). */
  mean: z.array(z.number()),
  /** Principal directions of the training frames' features, one row of 2 x hiddenSize per component. */
  components: z.array(z.array(z.number())).min(1),
  /** Variance along each component. */
  variances: z.array(z.number().positive()),
  /** Mean variance left outside the components (per dimension). */
  residualVariance: z.number().positive(),
  /** The gate: the mean score of the last `windowSec` seconds enters out-of-domain at >= enter, leaves at < exit. */
  windowSec: z.number().int().positive(),
  enter: z.number().positive(),
  exit: z.number().positive(),
  /** How the numbers were obtained (seeds, rates); informational. */
  calibration: z.record(z.string(), z.unknown()).optional(),
});
export type OodStats = z.infer<typeof OodStatsSchema>;

/** ood.json of a model folder; undefined when there is none. A malformed one is an error naming the file. */
export function loadOodStats(dir: string, hiddenSize: number): OodStats | undefined {
  const path = join(dir, OOD_FILE);
  if (!existsSync(path)) return undefined;
  const bad = (why: string, cause?: unknown): SightlineError => new SightlineError('model_invalid', `model folder ${dir}: ${OOD_FILE} ${why}`, { cause });
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw bad(`is not valid JSON (${(err as Error).message})`, err);
  }
  const parsed = OodStatsSchema.safeParse(raw);
  if (!parsed.success) throw bad(`is malformed: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  const s = parsed.data;
  if (s.hiddenSize !== hiddenSize) throw bad(`is for hiddenSize ${s.hiddenSize}, the model has ${hiddenSize}`);
  const n = 2 * s.hiddenSize;
  if (s.mean.length !== n || s.components.some((c) => c.length !== n)) throw bad(`needs a mean and components of ${n} numbers (2 x hiddenSize)`);
  if (s.variances.length !== s.components.length) throw bad(`has ${s.components.length} components but ${s.variances.length} variances`);
  if (s.exit > s.enter) throw bad(`exit ${s.exit} is above enter ${s.enter}`);
  return s;
}

/**
 * A frame's features: the mean and the deviation of each of the d features over its tokens (2d numbers).
 * Pooling over the frame keeps what the picture is made of and drops where on the screen it is, which is what
 * tells a pitch from a test card; one vector per frame keeps the statistics small.
 */
export function frameFeatures(tokens: Float32Array, d: number, out: Float64Array = new Float64Array(2 * d)): Float64Array {
  const rows = tokens.length / d;
  out.fill(0);
  for (let r = 0; r < rows; r++) for (let k = 0; k < d; k++) out[k] += tokens[r * d + k];
  for (let k = 0; k < d; k++) out[k] /= rows;
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < d; k++) {
      const x = tokens[r * d + k] - out[k];
      out[d + k] += x * x;
    }
  }
  for (let k = 0; k < d; k++) out[d + k] = Math.sqrt(out[d + k] / rows);
  return out;
}

/**
 * Score of one frame: its features' squared Mahalanobis distance from the training frames under a
 * probabilistic PCA model (exact along the components, one shared variance for the rest), per dimension:
 * about 1-2 on training-world video, several times that on other pictures.
 */
export function frameScore(stats: OodStats, features: Float64Array): number {
  const n = features.length;
  let total = 0;
  for (let i = 0; i < n; i++) total += (features[i] - stats.mean[i]) ** 2;
  let inside = 0;
  let along = 0;
  stats.components.forEach((c, j) => {
    let p = 0;
    for (let i = 0; i < n; i++) p += c[i] * (features[i] - stats.mean[i]);
    along += (p * p) / stats.variances[j];
    inside += p * p;
  });
  return (along + Math.max(0, total - inside) / stats.residualVariance) / n;
}

/** Score of one second: the mean of its frames' scores; a second without frames has none. */
export function secondScore(stats: OodStats, visual: Float32Array, d: number): number | undefined {
  const perFrame = stats.tokensPerFrame * d;
  const frames = Math.floor(visual.length / perFrame);
  if (frames === 0) return undefined;
  const buf = new Float64Array(2 * d);
  let sum = 0;
  for (let f = 0; f < frames; f++) sum += frameScore(stats, frameFeatures(visual.subarray(f * perFrame, (f + 1) * perFrame), d, buf));
  return sum / frames;
}

export interface OodReading {
  /** This second's score. */
  score: number;
  /** The mean of the window the gate decides on. */
  smoothed: number;
  outOfDomain: boolean;
  /** The window mean at which the gate enters out-of-domain. */
  threshold: number;
}

/**
 * Hysteresis over a few seconds, so one odd second does not flip the stream: the window's mean enters at
 * `enter` and leaves below `exit`. A second without frames leaves the state as it was.
 */
export class OodGate {
  private readonly recent: number[] = [];
  private out = false;

  constructor(readonly stats: OodStats) {}

  observe(visual: Float32Array, d: number): OodReading | undefined {
    const score = secondScore(this.stats, visual, d);
    if (score === undefined) return undefined;
    return this.push(score);
  }

  /** The gate on a score already computed (calibration replays scores through it). */
  push(score: number): OodReading {
    this.recent.push(score);
    if (this.recent.length > this.stats.windowSec) this.recent.shift();
    const smoothed = this.recent.reduce((a, b) => a + b, 0) / this.recent.length;
    this.out = this.out ? smoothed >= this.stats.exit : smoothed >= this.stats.enter;
    return { score, smoothed, outOfDomain: this.out, threshold: this.stats.enter };
  }
}
