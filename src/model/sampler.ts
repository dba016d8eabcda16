/** Next-token choice: greedy (temperature 0) or temperature + top-p, with repetition penalty and bias. */
export interface SamplingOptions {
  /** 0 = greedy. */
  temperature: number;
  /** Nucleus mass kept when sampling (1 = all). */
  topP: number;
  /** CTRL-style penalty on recently generated tokens (1 = off). */
  repetitionPenalty: number;
  /** Seed of the per-stream random generator (sampling is reproducible per stream). */
  seed: number;
  /** Added to the logit of a token id before anything else (e.g. to force or ban a token). */
  logitBias?: Record<number, number>;
  /** See ModelConfig generation.silenceThreshold. */
  silenceThreshold?: number;
  /** See ModelConfig generation.endThreshold. */
  endThreshold?: number;
}

/** mulberry32: small, fast, seedable; quality is ample for sampling. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Sampler {
  private readonly random: () => number;

  constructor(private readonly options: SamplingOptions) {
    this.random = mulberry32(options.seed);
  }

  /**
   * `logits` is one row [vocab]; it is modified in place. `silenceId` is given for a turn's first token,
   * `endId` for the tokens after it: with a silenceThreshold (endThreshold), silence (the end of the line)
   * is then decided on its own probability, not on being the single likeliest token.
   */
  pick(logits: Float32Array, recentIds: Iterable<number>, silenceId?: number, endId?: number): number {
    const { temperature, topP, repetitionPenalty, logitBias, silenceThreshold, endThreshold } = this.options;
    if (logitBias) for (const [id, bias] of Object.entries(logitBias)) logits[Number(id)] += bias;
    if (repetitionPenalty !== 1) {
      for (const id of new Set(recentIds)) {
        const l = logits[id];
        logits[id] = l > 0 ? l / repetitionPenalty : l * repetitionPenalty;
      }
    }
    if (silenceId !== undefined && silenceThreshold !== undefined) {
      if (probabilityOf(logits, silenceId) >= silenceThreshold) return silenceId;
      logits[silenceId] = -Infinity;
    }
    if (endId !== undefined && endThreshold !== undefined) {
      if (probabilityOf(logits, endId) >= endThreshold) return endId;
      logits[endId] = -Infinity;
    }
    if (temperature === 0) return argmax(logits);
    let max = -Infinity;
    for (let i = 0; i < logits.length; i++) if (logits[i] > max) max = logits[i];
    const probs = new Float64Array(logits.length);
    let sum = 0;
    for (let i = 0; i < logits.length; i++) sum += probs[i] = Math.exp((logits[i] - max) / temperature);
    const order = Array.from(probs.keys()).sort((a, b) => probs[b] - probs[a]);
    // Keep the smallest prefix whose mass reaches topP, then sample inside it.
    let kept = 0;
    let mass = 0;
    while (kept < order.length && mass < topP * sum) mass += probs[order[kept++]];
    let r = this.random() * mass;
    for (let k = 0; k < kept; k++) {
      r -= probs[order[k]];
      if (r <= 0) return order[k];
    }
    return order[kept - 1];
  }
}

/** Softmax probability of one id in a logits row. */
export function probabilityOf(logits: Float32Array, id: number): number {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > max) max = logits[i];
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i] - max);
  return Math.exp(logits[id] - max) / sum;
}

export function argmax(row: Float32Array): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}
