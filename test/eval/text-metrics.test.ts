import { describe, expect, it } from 'vitest';
import {
  bleu4,
  buildCiderIdf,
  ciderD,
  ciderDPair,
  ciderDScores,
  lcsLength,
  rougeL,
  rougeLPair,
  tokenize,
} from '../../eval/text-metrics.js';

describe('tokenize', () => {
  it('lowercases, strips punctuation, splits on whitespace', () => {
    expect(tokenize("  GOAL! Red's number 9,  2-1.\n")).toEqual(['goal', 'reds', 'number', '9', '21']);
    expect(tokenize(' ...')).toEqual([]);
  });
});

describe('BLEU-4', () => {
  it('is 1 for identical strings and 0 for disjoint ones', () => {
    expect(bleu4(['the cat sat on the mat'], ['The cat sat on the mat.'])).toBe(1);
    expect(bleu4(['a b c d'], ['e f g h'])).toBe(0);
    expect(bleu4([''], ['e f g h'])).toBe(0);
  });

  it('matches a hand-computed worked example', () => {
    // cand "the cat sat on the mat" vs ref "the cat is on the mat" (6 tokens each, BP = 1):
    // p1 = 5/6 (the x2, cat, on, mat); bigrams: 3 of 5 match (the cat, on the, the mat) -> (3+1)/(5+1) = 2/3;
    // trigrams: 1 of 4 (on the mat) -> 2/5; 4-grams: 0 of 3 -> 1/4.
    // BLEU = (5/6 * 2/3 * 2/5 * 1/4)^(1/4) = (1/18)^(1/4).
    expect(bleu4(['the cat sat on the mat'], ['the cat is on the mat'])).toBeCloseTo((1 / 18) ** 0.25, 12);
  });

  it('applies the brevity penalty at corpus level', () => {
    // cand "a b" vs ref "a b c d": p1 = 1, p2 = (1+1)/(1+1) = 1, p3 = p4 = (0+1)/(0+1) = 1; BP = exp(1 - 4/2).
    expect(bleu4(['a b'], ['a b c d'])).toBeCloseTo(Math.exp(-1), 12);
    // Corpus level: the lengths are summed (c = 2 + 4 = 6, r = 4 + 4 = 8) before the penalty.
    // Unigrams 6/6; bigrams 1 + 3 = 4 of 4 -> 5/5; trigrams 0 + 2 of 2 -> 3/3; 4-grams 0 + 1 of 1 -> 2/2.
    expect(bleu4(['a b', 'e f g h'], ['a b c d', 'e f g h'])).toBeCloseTo(Math.exp(1 - 8 / 6), 12);
  });
});

describe('ROUGE-L', () => {
  it('is 1 for identical strings and 0 for disjoint ones', () => {
    expect(rougeL(['the cat sat'], ['the cat sat'])).toBe(1);
    expect(rougeL(['a b c'], ['d e f'])).toBe(0);
    expect(lcsLength(['a', 'b', 'c', 'd'], ['a', 'c', 'x', 'd'])).toBe(3);
  });

  it('matches a hand-computed worked example (beta = 1.2)', () => {
    // cand "the cat sat" vs ref "the cat is on the mat": LCS = 2, P = 2/3, R = 2/6 = 1/3.
    // F = (1 + 1.44) P R / (R + 1.44 P) = 2.44 * (2/9) / (1/3 + 0.96) = 4.88 / 11.64.
    expect(rougeLPair('the cat sat', 'the cat is on the mat')).toBeCloseTo(4.88 / 11.64, 12);
    // The corpus value is the mean over pairs.
    expect(rougeL(['the cat sat', 'x'], ['the cat is on the mat', 'x'])).toBeCloseTo((4.88 / 11.64 + 1) / 2, 12);
  });
});

describe('CIDEr-D', () => {
  it('is 10 for identical strings (4+ tokens, 2+ windows) and 0 for disjoint ones', () => {
    expect(ciderDScores(['a b c d', 'e f g h'], ['a b c d', 'e f g h'])).toEqual([10, 10]);
    expect(ciderD(['w x y z', 'p q r s'], ['a b c d', 'e f g h'])).toBe(0);
  });

  it('is 0 with a single window (every idf is ln(1/1) = 0)', () => {
    expect(ciderD(['a b c d'], ['a b c d'])).toBe(0);
  });

  it('matches a hand-computed worked example', () => {
    // Windows' references R1 = "a b c d", R2 = "a b e f" (N = 2). idf = ln(2/df): a, b and "a b" appear in
    // both (idf 0); every other n-gram has df 1, idf ln 2 =: L.
    // Window 1: candidate = R1 -> each n has cosine 1, no length penalty -> 10.
    // Window 2: candidate "a b e" vs R2. Unigrams: c = {a:0, b:0, e:L}, r = {a:0, b:0, e:L, f:L};
    // clipped dot = L * L, |c| = L, |r| = L sqrt 2 -> 1/sqrt 2. Bigrams: c = {ab:0, be:L},
    // r = {ab:0, be:L, ef:L} -> 1/sqrt 2. Trigrams: c = {abe:L}, r = {abe:L, bef:L} -> 1/sqrt 2.
    // 4-grams: the candidate has none -> 0. Length penalty exp(-(3-4)^2 / 72).
    // CIDEr-D = 10 * (3/sqrt 2) / 4 * exp(-1/72) ~= 5.2302.
    const expected2 = ((10 * 3) / Math.SQRT2 / 4) * Math.exp(-1 / 72);
    const scores = ciderDScores(['a b c d', 'a b e'], ['a b c d', 'a b e f']);
    expect(scores[0]).toBeCloseTo(10, 12);
    expect(scores[1]).toBeCloseTo(expected2, 12);
    expect(expected2).toBeCloseTo(5.2302, 4);
    expect(ciderD(['a b c d', 'a b e'], ['a b c d', 'a b e f'])).toBeCloseTo((10 + expected2) / 2, 12);
  });

  it('clips: repeating a matched n-gram does not raise the score', () => {
    const idf = buildCiderIdf(['goal for red now', 'corner to blue now']);
    const once = ciderDPair('goal for red now', 'goal for red now', idf);
    const spam = ciderDPair('goal goal goal for red now', 'goal for red now', idf);
    expect(spam).toBeLessThan(once);
  });
});
