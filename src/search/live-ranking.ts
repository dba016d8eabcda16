/**
 * Ranking of live commentary lines: Okapi BM25 over an in-memory inverted index of the most recent lines
 * (bounded, oldest evicted first), normalised so that a line saying exactly the query scores 1:
 *
 *   bm25(q, d)  = sum over distinct query terms t of  idf(t) * tf(t,d) * (k1 + 1) / (tf(t,d) + k1 * (1 - b + b * |d| / avgdl))
 *   idf(t)      = ln(1 + (N - df(t) + 0.5) / (df(t) + 0.5))            (Lucene's, never negative)
 *   score(q, d) = min(1, bm25(q, d) / bm25(q, q))                       (q read as a line of its own)
 *
 * So a live score is on 0..1 like a clip's cosine: 1 = the line has every query word (rare words weigh
 * more), 0 = none. Exact: every line in memory that shares a term with the query is scored, then sorted
 * (score, then newer first, then stream and start), so the top k is the top k of a brute-force scan.
 * Terms are lower-cased runs of letters and digits ("Red's number 9" -> red, s, number, 9): no stemming
 * and no stop words, so what matches is easy to explain.
 */
export const BM25_K1 = 1.2;
export const BM25_B = 0.75;
/** Lines kept in memory for live search (most recent first kept): 100,000 (~20-30 MB). */
export const DEFAULT_MAX_LIVE_LINES = 100_000;

export interface LiveLine {
  stream: string;
  text: string;
  start: number;
  end: number;
  /** When it was spoken (ms since epoch): ties rank newer first. */
  wallMs: number;
}

export interface RankedLine extends LiveLine {
  score: number;
}

export function terms(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

function counts(words: string[]): Map<string, number> {
  const tf = new Map<string, number>();
  for (const w of words) tf.set(w, (tf.get(w) ?? 0) + 1);
  return tf;
}

/** Best first: score, then newer, then stream id, then start (a total order, so rankings are reproducible). */
export function compareRanked(a: RankedLine, b: RankedLine): number {
  return b.score - a.score || b.wallMs - a.wallMs || (a.stream < b.stream ? -1 : a.stream > b.stream ? 1 : 0) || a.start - b.start;
}

interface Doc {
  line: LiveLine;
  tf: Map<string, number>;
  length: number;
}

export class LiveTermIndex {
  private readonly docs = new Map<number, Doc>();
  private readonly postings = new Map<string, Set<number>>();
  private nextId = 0;
  private totalLength = 0;

  constructor(private readonly maxLines = DEFAULT_MAX_LIVE_LINES) {}

  get size(): number {
    return this.docs.size;
  }

  add(line: LiveLine): void {
    const words = terms(line.text);
    if (words.length === 0) return;
    const id = this.nextId++;
    const tf = counts(words);
    this.docs.set(id, { line, tf, length: words.length });
    this.totalLength += words.length;
    for (const t of tf.keys()) {
      let ids = this.postings.get(t);
      if (!ids) this.postings.set(t, (ids = new Set()));
      ids.add(id);
    }
    if (this.docs.size > this.maxLines) this.evictOldest();
  }

  /** The k best lines for `query` (score > 0), best first. */
  search(query: string, k: number): RankedLine[] {
    const q = counts(terms(query));
    const n = this.docs.size;
    if (q.size === 0 || n === 0) return [];
    const avgdl = this.totalLength / n;
    const idf = new Map([...q.keys()].map((t) => [t, bm25Idf(n, this.postings.get(t)?.size ?? 0)]));
    const ideal = bm25({ tf: new Map([...q.keys()].map((t) => [t, 1])), length: q.size }, idf, avgdl);
    const candidates = new Set<number>();
    for (const t of q.keys()) for (const id of this.postings.get(t) ?? []) candidates.add(id);
    const ranked: RankedLine[] = [];
    for (const id of candidates) {
      const doc = this.docs.get(id)!;
      ranked.push({ ...doc.line, score: Math.min(1, bm25(doc, idf, avgdl) / ideal) });
    }
    return ranked.sort(compareRanked).slice(0, k);
  }

  private evictOldest(): void {
    const [id, doc] = this.docs.entries().next().value as [number, Doc];
    this.docs.delete(id);
    this.totalLength -= doc.length;
    for (const t of doc.tf.keys()) {
      const ids = this.postings.get(t)!;
      ids.delete(id);
      if (ids.size === 0) this.postings.delete(t);
    }
  }
}

export function bm25Idf(n: number, df: number): number {
  return Math.log(1 + (n - df + 0.5) / (df + 0.5));
}

function bm25(doc: { tf: Map<string, number>; length: number }, idf: Map<string, number>, avgdl: number): number {
  let sum = 0;
  for (const [t, w] of idf) {
    const f = doc.tf.get(t) ?? 0;
    if (f > 0) sum += (w * f * (BM25_K1 + 1)) / (f + BM25_K1 * (1 - BM25_B + (BM25_B * doc.length) / avgdl));
  }
  return sum;
}
