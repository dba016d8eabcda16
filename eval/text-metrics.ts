/**
 * Text similarity between a candidate commentary and a reference transcript, one pair per window
 * (one reference per candidate). Definitions:
 *
 * - Tokens ({@link tokenize}): lowercase, every character that is not a letter, digit or whitespace is
 *   removed ("Red's 2-1!" -> ["reds", "21"]), then split on whitespace. Not the PTB tokenizer of the
 *   COCO caption evaluator.
 * - BLEU-4 ({@link bleu4}): corpus-level (Papineni et al. 2002). Clipped n-gram matches and candidate
 *   n-gram counts are summed over all pairs, p_n = matches_n / candidates_n; uniform weights 1/4;
 *   BLEU = BP * exp(sum_n log(p_n) / 4), BP = 1 if c > r else exp(1 - r / c) with c, r the total
 *   candidate and reference token counts. Smoothing: add-one on numerator and denominator for n = 2..4,
 *   p_n = (matches_n + 1) / (candidates_n + 1) (Lin & Och 2004; "method 2" in Chen & Cherry 2014's
 *   numbering). p_1 is not smoothed: no shared unigram (or an empty candidate) gives 0.
 * - ROUGE-L ({@link rougeL}): per pair, L = LCS length of the token sequences, P = L / |candidate|,
 *   R = L / |reference|, F = (1 + b^2) P R / (R + b^2 P) with b = 1.2 (as the COCO caption evaluator);
 *   0 when L = 0. The corpus value is the mean F over pairs.
 * - CIDEr-D ({@link ciderD}): as the COCO evaluator's CIDEr-D (Vedantam et al. 2015). For n = 1..4, a
 *   sentence is the vector of its n-gram counts times idf(g) = ln(N / max(1, df(g))), where N is the
 *   number of windows being scored and df(g) the number of those windows whose reference contains g
 *   (document frequencies over the reference set of the windows being scored). sim_n = sum_g
 *   min(c_g, r_g) r_g / (|c| |r|) (clipped cosine; 0 if either vector is zero), times the Gaussian length
 *   penalty exp(-(|cand| - |ref|)^2 / (2 * 6^2)) in tokens. Score = 10 * mean_n sim_n (range 0..10);
 *   corpus value = mean over pairs. Deviations from COCO: one reference per window (COCO averages over
 *   several), our tokenizer, and df counted per window. Consequences worth knowing: with one window
 *   every idf is 0 and the score is 0; an n-gram found in every window's reference carries no weight;
 *   a sentence shorter than n tokens has no n-grams, so sim_n = 0 for that n.
 */

/** Lowercase, strip punctuation (anything not a letter, digit or whitespace), split on whitespace. */
export function tokenize(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s]/gu, '')
    .split(/\s+/)
    .filter((t) => t.length > 0);
}

/** Counts of the n-grams of `tokens` (keys are tokens joined by a space). */
export function ngramCounts(tokens: readonly string[], n: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i + n <= tokens.length; i++) {
    const g = tokens.slice(i, i + n).join(' ');
    counts.set(g, (counts.get(g) ?? 0) + 1);
  }
  return counts;
}

function checkPairs(candidates: readonly string[], references: readonly string[]): void {
  if (candidates.length !== references.length) {
    throw new RangeError(`text metrics: ${candidates.length} candidates but ${references.length} references`);
  }
}

/** Corpus BLEU-4 with Lin & Och add-one smoothing for n = 2..4 (see the module comment). 0..1. */
export function bleu4(candidates: readonly string[], references: readonly string[]): number {
  checkPairs(candidates, references);
  const matches = [0, 0, 0, 0];
  const totals = [0, 0, 0, 0];
  let c = 0;
  let r = 0;
  for (let i = 0; i < candidates.length; i++) {
    const cand = tokenize(candidates[i]);
    const ref = tokenize(references[i]);
    c += cand.length;
    r += ref.length;
    for (let n = 1; n <= 4; n++) {
      const cc = ngramCounts(cand, n);
      const rc = ngramCounts(ref, n);
      for (const [g, k] of cc) {
        matches[n - 1] += Math.min(k, rc.get(g) ?? 0);
        totals[n - 1] += k;
      }
    }
  }
  if (c === 0 || matches[0] === 0) return 0;
  let logSum = Math.log(matches[0] / totals[0]);
  for (let n = 2; n <= 4; n++) logSum += Math.log((matches[n - 1] + 1) / (totals[n - 1] + 1));
  const bp = c > r ? 1 : Math.exp(1 - r / c);
  return bp * Math.exp(logSum / 4);
}

/** Length of the longest common subsequence of two token sequences. */
export function lcsLength(a: readonly string[], b: readonly string[]): number {
  if (a.length === 0 || b.length === 0) return 0;
  let prev = new Array<number>(b.length + 1).fill(0);
  let cur = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      cur[j] = a[i - 1] === b[j - 1] ? prev[j - 1] + 1 : Math.max(prev[j], cur[j - 1]);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[b.length];
}

/** ROUGE-L F-measure (beta = 1.2) of one pair. 0..1. */
export function rougeLPair(candidate: string, reference: string, beta = 1.2): number {
  const cand = tokenize(candidate);
  const ref = tokenize(reference);
  const l = lcsLength(cand, ref);
  if (l === 0) return 0;
  const p = l / cand.length;
  const rec = l / ref.length;
  const b2 = beta * beta;
  return ((1 + b2) * p * rec) / (rec + b2 * p);
}

/** Mean ROUGE-L F-measure (beta = 1.2) over pairs; 0 for no pairs. */
export function rougeL(candidates: readonly string[], references: readonly string[]): number {
  checkPairs(candidates, references);
  if (candidates.length === 0) return 0;
  let sum = 0;
  for (let i = 0; i < candidates.length; i++) sum += rougeLPair(candidates[i], references[i]);
  return sum / candidates.length;
}

/** Document frequencies of the n-grams (n = 1..4) of a reference set, for CIDEr-D. */
export interface CiderIdf {
  /** Number of reference documents (windows). */
  readonly documents: number;
  /** n-gram -> number of documents containing it, one map per n (index n - 1). */
  readonly df: readonly Map<string, number>[];
}

export function buildCiderIdf(references: readonly string[]): CiderIdf {
  const df = [1, 2, 3, 4].map(() => new Map<string, number>());
  for (const ref of references) {
    const tokens = tokenize(ref);
    for (let n = 1; n <= 4; n++) {
      for (const g of ngramCounts(tokens, n).keys()) df[n - 1].set(g, (df[n - 1].get(g) ?? 0) + 1);
    }
  }
  return { documents: references.length, df };
}

const CIDER_SIGMA = 6;

function tfidf(tokens: readonly string[], n: number, idf: CiderIdf): { vec: Map<string, number>; norm: number } {
  const vec = new Map<string, number>();
  let sq = 0;
  const logN = Math.log(Math.max(1, idf.documents));
  for (const [g, k] of ngramCounts(tokens, n)) {
    const v = k * (logN - Math.log(Math.max(1, idf.df[n - 1].get(g) ?? 0)));
    vec.set(g, v);
    sq += v * v;
  }
  return { vec, norm: Math.sqrt(sq) };
}

/** CIDEr-D of one pair under the given document frequencies. 0..10. */
export function ciderDPair(candidate: string, reference: string, idf: CiderIdf): number {
  const cand = tokenize(candidate);
  const ref = tokenize(reference);
  const delta = cand.length - ref.length;
  const penalty = Math.exp(-(delta * delta) / (2 * CIDER_SIGMA * CIDER_SIGMA));
  let sum = 0;
  for (let n = 1; n <= 4; n++) {
    const c = tfidf(cand, n, idf);
    const r = tfidf(ref, n, idf);
    if (c.norm === 0 || r.norm === 0) continue;
    let dot = 0;
    for (const [g, cv] of c.vec) {
      const rv = r.vec.get(g);
      if (rv !== undefined) dot += Math.min(cv, rv) * rv;
    }
    sum += (dot / (c.norm * r.norm)) * penalty;
  }
  return (10 * sum) / 4;
}

/** Per-pair CIDEr-D with df over `references` (the windows being scored). */
export function ciderDScores(candidates: readonly string[], references: readonly string[]): number[] {
  checkPairs(candidates, references);
  const idf = buildCiderIdf(references);
  return candidates.map((c, i) => ciderDPair(c, references[i], idf));
}

/** Mean CIDEr-D over pairs, df over `references`; 0 for no pairs. 0..10. */
export function ciderD(candidates: readonly string[], references: readonly string[]): number {
  const scores = ciderDScores(candidates, references);
  return scores.length === 0 ? 0 : scores.reduce((a, b) => a + b, 0) / scores.length;
}

export interface TextScores {
  bleu4: number;
  rougeL: number;
  ciderD: number;
}

/** All three corpus metrics over the same pairs. */
export function textScores(candidates: readonly string[], references: readonly string[]): TextScores {
  return {
    bleu4: bleu4(candidates, references),
    rougeL: rougeL(candidates, references),
    ciderD: ciderD(candidates, references),
  };
}
