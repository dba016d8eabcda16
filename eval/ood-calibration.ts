/**
 * Calibration of a commentator's out-of-domain signal (src/model/ood.ts): per-position feature statistics
 * of the vision encoder's tokens, fitted on training-world matches; the gate's threshold chosen on other
 * (validation) matches; then measured: the share of held-out match seconds the gate wrongly calls out of
 * domain, and the share of seconds of other footage (ffmpeg test sources, altered matches) it catches.
 * Every video is read the way a live stream is: through src/stream's ingest at the model's size and rate.
 */
import { createOnnxBackend } from '../src/model/onnx-backend.js';
import { loadModelFolder, type ModelFolder } from '../src/model/model-folder.js';
import { frameFeatures, OodGate, secondScore, type OodStats } from '../src/model/ood.js';
import { framesToPixelValues } from '../src/model/preprocess.js';
import { openModelSource, packFrames } from '../src/stream/index.js';
import { symmetricEigen } from './symmetric-eigen.js';

/** Running sums of frame features (float64) for their mean and covariance. */
export class FrameCovariance {
  readonly n: number;
  readonly sum: Float64Array;
  readonly outer: Float64Array;
  count = 0;
  private readonly buf: Float64Array<ArrayBuffer>;

  constructor(
    readonly d: number,
    readonly tokensPerFrame: number,
  ) {
    this.n = 2 * d;
    this.sum = new Float64Array(this.n);
    this.outer = new Float64Array(this.n * this.n);
    this.buf = new Float64Array(this.n);
  }

  /** A second's visual tokens: each whole frame adds one feature vector. */
  add(visual: Float32Array): void {
    const perFrame = this.tokensPerFrame * this.d;
    for (let f = 0; f + 1 <= visual.length / perFrame; f++) {
      const x = frameFeatures(visual.subarray(f * perFrame, (f + 1) * perFrame), this.d, this.buf);
      this.count++;
      for (let i = 0; i < this.n; i++) {
        this.sum[i] += x[i];
        const xi = x[i];
        const row = i * this.n;
        for (let j = i; j < this.n; j++) this.outer[row + j] += xi * x[j];
      }
    }
  }

  /** Probabilistic PCA with `k` components (the rest shares one variance). */
  fit(k: number): Pick<OodStats, 'mean' | 'components' | 'variances' | 'residualVariance'> {
    const { n } = this;
    if (this.count <= n) throw new Error(`${this.count} frames cannot fit ${n} features; fit on more video`);
    if (k >= n) throw new Error(`${k} components leave no residual of ${n} features`);
    const mean = Array.from(this.sum, (s) => s / this.count);
    const cov = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = i; j < n; j++) cov[i * n + j] = cov[j * n + i] = this.outer[i * n + j] / this.count - mean[i] * mean[j];
    }
    const { values, vectors } = symmetricEigen(cov, n);
    const rest = values.slice(k).reduce((a, b) => a + Math.max(0, b), 0) / (n - k);
    return {
      mean: mean.map(round),
      components: vectors.slice(0, k).map((c) => Array.from(c, round)),
      variances: values.slice(0, k).map(round),
      residualVariance: round(rest),
    };
  }
}

const round = (x: number): number => Number(x.toPrecision(5));

/** The gate's decisions over one video's scores, replayed from its first second (as a new stream would). */
export function gateShare(stats: OodStats, scores: number[]): { outSeconds: number; seconds: number; firstOutSec?: number } {
  const gate = new OodGate(stats);
  let outSeconds = 0;
  let firstOutSec: number | undefined;
  scores.forEach((s, i) => {
    if (gate.push(s).outOfDomain) {
      outSeconds++;
      firstOutSec ??= i;
    }
  });
  return { outSeconds, seconds: scores.length, ...(firstOutSec === undefined ? {} : { firstOutSec }) };
}

/**
 * Threshold from validation scores: `margin` times the highest window mean any validation second reached, so
 * the validation matches never enter; leaving needs the window back under `exitShare` of that.
 */
export function chooseThreshold(validation: number[][], windowSec: number, margin: number, exitShare: number): { enter: number; exit: number; validationMax: number } {
  let validationMax = 0;
  for (const scores of validation) {
    for (let i = 0; i < scores.length; i++) {
      const w = scores.slice(Math.max(0, i - windowSec + 1), i + 1);
      validationMax = Math.max(validationMax, w.reduce((a, b) => a + b, 0) / w.length);
    }
  }
  const enter = round(validationMax * margin);
  return { enter, exit: round(enter * exitShare), validationMax };
}

/** Runs the model's vision encoder over videos, second by second, on one CPU thread. */
export class VisionReader {
  private constructor(
    readonly folder: ModelFolder,
    private readonly encode: (pixels: Float32Array, frames: number) => Promise<Float32Array>,
  ) {}

  static async open(modelDir: string): Promise<VisionReader> {
    const folder = loadModelFolder(modelDir);
    const backend = await createOnnxBackend(folder, { provider: 'cpu', intraOpThreads: 1 });
    return new VisionReader(folder, (p, f) => backend.encodeFrames(p, f));
  }

  get hiddenSize(): number {
    return this.folder.config.decoder.hiddenSize;
  }

  /** Calls `each` with every second's visual tokens (seconds without frames are skipped), up to `maxSeconds`. */
  async forEachSecond(video: string, maxSeconds: number, each: (visual: Float32Array) => void): Promise<number> {
    const { vision } = this.folder.config;
    const source = openModelSource(video, vision, { seconds: maxSeconds });
    let seconds = 0;
    try {
      for await (const chunk of source) {
        if (chunk.frames.length === 0) continue;
        const packed = packFrames(chunk);
        each(await this.encode(framesToPixelValues(packed.rgb, packed.frames, vision.imageWidth, vision.imageHeight, vision), packed.frames));
        if (++seconds >= maxSeconds) break;
      }
    } finally {
      await source.close();
    }
    return seconds;
  }

  async scores(video: string, maxSeconds: number, stats: OodStats): Promise<number[]> {
    const out: number[] = [];
    await this.forEachSecond(video, maxSeconds, (v) => out.push(secondScore(stats, v, this.hiddenSize)!));
    return out;
  }
}
