import { describe, expect, it } from 'vitest';
import { diagonalRanks, retrievalMetrics, similarityMatrix, summariseRanks } from '../../eval/retrieval-metrics.js';

const m = (rows: number[][]): Float32Array => Float32Array.from(rows.flat());

describe('diagonalRanks', () => {
  // texts (rows) x videos (columns); the true pair of text i is video i.
  const sim = m([
    [0.9, 0.1, 0.2],
    [0.8, 0.5, 0.3],
    [0.1, 0.2, 0.0],
  ]);

  it('ranks the true clip along each row (text-to-video), 1-based', () => {
    expect(Array.from(diagonalRanks(sim, 3, 'textToVideo'))).toEqual([1, 2, 3]);
  });

  it('ranks the true caption down each column (video-to-text)', () => {
    expect(Array.from(diagonalRanks(sim, 3, 'videoToText'))).toEqual([1, 1, 3]);
  });

  it('counts ties against the true item', () => {
    const tie = m([
      [1, 1],
      [0, 1],
    ]);
    expect(Array.from(diagonalRanks(tie, 2, 'textToVideo'))).toEqual([2, 1]);
    expect(Array.from(diagonalRanks(tie, 2, 'videoToText'))).toEqual([1, 2]);
    // A model that scores everything the same ranks every true item last, never first.
    const flat = new Float32Array(16).fill(0.5);
    expect(retrievalMetrics(flat, 4).textToVideo).toEqual({ r1: 0, r5: 100, r10: 100, medianRank: 4, meanRank: 4 });
  });

  it('agrees with a full sort when there are no ties', () => {
    const n = 40;
    let s = 12345;
    const rand = (): number => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const x = Float32Array.from({ length: n * n }, rand);
    const t2v = diagonalRanks(x, n, 'textToVideo');
    const v2t = diagonalRanks(x, n, 'videoToText');
    for (let i = 0; i < n; i++) {
      const row = Array.from({ length: n }, (_, j) => j).sort((a, b) => x[i * n + b] - x[i * n + a]);
      expect(t2v[i]).toBe(row.indexOf(i) + 1);
      const col = Array.from({ length: n }, (_, j) => j).sort((a, b) => x[b * n + i] - x[a * n + i]);
      expect(v2t[i]).toBe(col.indexOf(i) + 1);
    }
  });

  it('rejects a matrix of the wrong size or with NaN, naming the problem', () => {
    expect(() => diagonalRanks(new Float32Array(5), 2, 'textToVideo')).toThrow(/expected 2 x 2 = 4 values, got 5/);
    expect(() => diagonalRanks(m([[1, NaN], [0, 1]]), 2, 'textToVideo')).toThrow(/NaN at row 0, column 1/);
  });
});

describe('summariseRanks / retrievalMetrics', () => {
  it('R@k in percent, median (odd count) and mean rank', () => {
    const sim = m([
      [0.9, 0.1, 0.2],
      [0.8, 0.5, 0.3],
      [0.1, 0.2, 0.0],
    ]);
    const r = retrievalMetrics(sim, 3);
    expect(r.textToVideo.r1).toBeCloseTo(100 / 3, 10);
    expect(r.textToVideo).toMatchObject({ r5: 100, r10: 100, medianRank: 2, meanRank: 2 });
    expect(r.videoToText.r1).toBeCloseTo(200 / 3, 10);
    expect(r.videoToText).toMatchObject({ r5: 100, r10: 100, medianRank: 1 });
    expect(r.videoToText.meanRank).toBeCloseTo(5 / 3, 10);
  });

  it('median of an even count is the mean of the two middle ranks; R@5 and R@10 include their bound', () => {
    expect(summariseRanks([12, 1, 10, 5, 6, 11])).toEqual({ r1: 100 / 6, r5: 200 / 6, r10: 400 / 6, medianRank: 8, meanRank: 7.5 });
    expect(summariseRanks([3, 1, 2, 10])).toEqual({ r1: 25, r5: 75, r10: 100, medianRank: 2.5, meanRank: 4 });
  });

  it('refuses an empty list', () => {
    expect(() => summariseRanks([])).toThrow(/no ranks/);
  });
});

describe('similarityMatrix', () => {
  it('is texts x videos, row-major dot products', () => {
    const texts = Float32Array.from([1, 0, 0, 1, 0.6, 0.8]); // 3 x 2
    const videos = Float32Array.from([1, 0, 0.6, 0.8]); // 2 x 2
    const s = Array.from(similarityMatrix(texts, videos, 2)).map((v) => Math.round(v * 1000) / 1000);
    expect(s).toEqual([1, 0.6, 0, 0.8, 0.6, 1]);
  });
});
