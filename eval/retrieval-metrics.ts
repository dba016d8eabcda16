/**
 * Text-video retrieval metrics, MSR-VTT 1k-A protocol: an n x n similarity matrix of n captions (rows) and
 * their n clips (columns), the true pair of caption i being clip i (the diagonal).
 *
 * - Rank (1-based) of the true item among all n candidates, text-to-video along a row, video-to-text
 *   along a column.
 * - Ties count against the true item: rank = 1 + the number of other candidates scoring >= the true one.
 *   So a model that scores everything equally gets rank n, never rank 1, and the result does not depend
 *   on sort order. (The Python training code uses argsort, whose order among exact ties is arbitrary;
 *   with float scores from real encoders exact ties do not occur, so both agree there.)
 * - R@k: percent of queries with rank <= k. MdR: median rank (mean of the two middle ranks when n is
 *   even, as numpy's median). MnR: mean rank.
 */
import { SightlineError } from '../src/errors.js';

export interface RetrievalSummary {
  /** Percent of queries whose true item ranks first / in the top 5 / top 10. */
  r1: number;
  r5: number;
  r10: number;
  /** Median and mean 1-based rank of the true item. */
  medianRank: number;
  meanRank: number;
}

export interface RetrievalMetrics {
  textToVideo: RetrievalSummary;
  videoToText: RetrievalSummary;
}

function checkSquare(sim: Float32Array | Float64Array, n: number): void {
  if (!Number.isInteger(n) || n <= 0 || sim.length !== n * n) {
    throw new SightlineError('bad_input', `similarity matrix: expected ${n} x ${n} = ${n * n} values, got ${sim.length}`);
  }
  for (let i = 0; i < sim.length; i++) {
    if (Number.isNaN(sim[i])) throw new SightlineError('bad_input', `similarity matrix: NaN at row ${Math.floor(i / n)}, column ${i % n}`);
  }
}

/**
 * Rank of the true item for each query. `sim` is row-major [texts x videos]; `direction`
 * 'textToVideo' ranks the clips in row i, 'videoToText' the captions in column i.
 */
export function diagonalRanks(sim: Float32Array | Float64Array, n: number, direction: keyof RetrievalMetrics): Int32Array {
  checkSquare(sim, n);
  const ranks = new Int32Array(n);
  const [rowStride, colStride] = direction === 'textToVideo' ? [n, 1] : [1, n];
  for (let q = 0; q < n; q++) {
    const base = q * rowStride;
    const truth = sim[base + q * colStride];
    let better = 0;
    for (let c = 0; c < n; c++) if (c !== q && sim[base + c * colStride] >= truth) better++;
    ranks[q] = better + 1;
  }
  return ranks;
}

/** R@1/5/10 (percent), median and mean rank of a list of 1-based ranks. */
export function summariseRanks(ranks: ArrayLike<number>): RetrievalSummary {
  const n = ranks.length;
  if (n === 0) throw new SightlineError('bad_input', 'no ranks to summarise');
  const sorted = Float64Array.from(ranks).sort();
  const within = (k: number): number => (100 * sorted.filter((r) => r <= k).length) / n;
  const mid = n >> 1;
  return {
    r1: within(1),
    r5: within(5),
    r10: within(10),
    medianRank: n % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2,
    meanRank: sorted.reduce((a, b) => a + b, 0) / n,
  };
}

export function retrievalMetrics(sim: Float32Array | Float64Array, n: number): RetrievalMetrics {
  return {
    textToVideo: summariseRanks(diagonalRanks(sim, n, 'textToVideo')),
    videoToText: summariseRanks(diagonalRanks(sim, n, 'videoToText')),
  };
}

/** texts [n x dim] . videos [m x dim]^T -> row-major [n x m] (cosine when both are L2-normalised). */
export function similarityMatrix(texts: Float32Array, videos: Float32Array, dim: number): Float32Array {
  const n = texts.length / dim;
  const m = videos.length / dim;
  const out = new Float32Array(n * m);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) {
      let s = 0;
      for (let d = 0; d < dim; d++) s += texts[i * dim + d] * videos[j * dim + d];
      out[i * m + j] = s;
    }
  }
  return out;
}
