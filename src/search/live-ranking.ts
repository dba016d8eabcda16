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
/** Lines kept in memory for live search (most recent first kept): 100,000 (~40 MB: bench/live-index-memory.ts). */
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
  return b.score - a.score || compareTies(a, b);
}

/** Among lines of one score: newer first, then stream id, then start. */
function compareTies(a: LiveLine, b: LiveLine): number {
  return b.wallMs - a.wallMs || (a.stream < b.stream ? -1 : a.stream > b.stream ? 1 : 0) || a.start - b.start;
}

/**
 * A list appended at the back and trimmed at the front (the index evicts oldest first), compacted when half of
 * its array is trimmed, so each operation is O(1) amortised.
 */
class FrontTrimmedList<T> {
  private items: T[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  at(i: number): T {
    return this.items[this.head + i];
  }

  push(item: T): void {
    this.items.push(item);
  }

  dropFront(n: number): void {
    this.head += n;
    if (this.head >= 16 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}

/** The lines holding a term, as line ids in arrival order, an id once per occurrence (so runs give tf). */
interface Posting {
  ids: FrontTrimmedList<number>;
  /** Lines holding the term (distinct ids). */
  df: number;
}

/**
 * Memory per line: the line itself, its length and one small integer per word (~390 heap bytes a broadcast line,
 * `node --expose-gc --import tsx bench/live-index-memory.ts`). An earlier layout kept a Map of term counts and a Set
 * entry per term for each line, ~1,170 bytes (the same bench at 182cf6d),
 * which kept the server's heap growing for hours under live streams (bench/results/soak-quick.md, run 7).
 */
export class LiveTermIndex {
  /** Line `firstId + i` is `lines.at(i)`: ids are consecutive, oldest first. */
  private readonly lines = new FrontTrimmedList<LiveLine>();
  private readonly lengths = new FrontTrimmedList<number>();
  private readonly postings = new Map<string, Posting>();
  private firstId = 0;
  private totalLength = 0;
  /** search()'s scratch: each line's sum by position, and the positions a query touched. */
  private sums = new Float64Array(0);
  private touched = new Int32Array(0);

  constructor(private readonly maxLines = DEFAULT_MAX_LIVE_LINES) {}

  get size(): number {
    return this.lines.length;
  }

  add(line: LiveLine): void {
    const words = terms(line.text);
    if (words.length === 0) return;
    const id = this.firstId + this.lines.length;
    this.lines.push(line);
    this.lengths.push(words.length);
    this.totalLength += words.length;
    for (const [t, f] of counts(words)) {
      let posting = this.postings.get(t);
      if (!posting) this.postings.set(t, (posting = { ids: new FrontTrimmedList(), df: 0 }));
      for (let i = 0; i < f; i++) posting.ids.push(id);
      posting.df++;
    }
    if (this.lines.length > this.maxLines) this.evictOldest();
  }

  /** The k best lines for `query` (score > 0), best first. */
  search(query: string, k: number): RankedLine[] {
    const q = counts(terms(query));
    const n = this.size;
    if (q.size === 0 || n === 0 || k < 1) return [];
    const avgdl = this.totalLength / n;
    const idf = new Map([...q.keys()].map((t) => [t, bm25Idf(n, this.postings.get(t)?.df ?? 0)]));
    const ideal = bm25({ tf: new Map([...q.keys()].map((t) => [t, 1])), length: q.size }, idf, avgdl);
    // Summed term by term in query order, as bm25() does, so a line's score is bit-identical to it. Sums live in
    // reused typed arrays and only the k best lines become objects: a search over every line held (a query word
    // such as "red" is in most of them) made an object and a Map entry per line, garbage that kept the server's
    // heap committed high under searches every few seconds (bench/search-memory.ts --steady both).
    const { sums, touched } = this.scratch(n);
    let nTouched = 0;
    for (const [t, w] of idf) {
      const ids = this.postings.get(t)?.ids;
      if (!ids) continue;
      for (let i = 0; i < ids.length; ) {
        const id = ids.at(i);
        let f = 0;
        while (i < ids.length && ids.at(i) === id) (f++, i++);
        const pos = id - this.firstId;
        if (sums[pos] === 0) touched[nTouched++] = pos;
        sums[pos] += bm25Term(w, f, this.lengths.at(pos), avgdl);
      }
    }
    const best: { pos: number; score: number }[] = [];
    for (let i = 0; i < nTouched; i++) {
      const pos = touched[i];
      const candidate = { pos, score: Math.min(1, sums[pos] / ideal) };
      sums[pos] = 0;
      if (best.length === k && this.compare(candidate, best[k - 1]) >= 0) continue;
      let at = best.length;
      while (at > 0 && this.compare(candidate, best[at - 1]) < 0) at--;
      best.splice(at, 0, candidate);
      if (best.length > k) best.pop();
    }
    return best.map(({ pos, score }) => ({ ...this.lines.at(pos), score }));
  }

  /** compareRanked on (position, score) pairs, without making the lines. */
  private compare(a: { pos: number; score: number }, b: { pos: number; score: number }): number {
    return b.score - a.score || compareTies(this.lines.at(a.pos), this.lines.at(b.pos));
  }

  /** Room for n lines; `sums` all zeros (search() sets every slot it used back to 0). */
  private scratch(n: number): { sums: Float64Array; touched: Int32Array } {
    if (this.sums.length < n) {
      const size = Math.max(n, this.sums.length * 2);
      this.sums = new Float64Array(size);
      this.touched = new Int32Array(size);
    }
    return { sums: this.sums, touched: this.touched };
  }

  private evictOldest(): void {
    const line = this.lines.at(0);
    this.totalLength -= this.lengths.at(0);
    for (const [t, f] of counts(terms(line.text))) {
      const posting = this.postings.get(t)!;
      posting.ids.dropFront(f);
      if (--posting.df === 0) this.postings.delete(t);
    }
    this.lines.dropFront(1);
    this.lengths.dropFront(1);
    this.firstId++;
  }
}

export function bm25Idf(n: number, df: number): number {
  return Math.log(1 + (n - df + 0.5) / (df + 0.5));
}

function bm25(doc: { tf: Map<string, number>; length: number }, idf: Map<string, number>, avgdl: number): number {
  let sum = 0;
  for (const [t, w] of idf) {
    const f = doc.tf.get(t) ?? 0;
    if (f > 0) sum += bm25Term(w, f, doc.length, avgdl);
  }
  return sum;
}

function bm25Term(idf: number, f: number, length: number, avgdl: number): number {
  return (idf * f * (BM25_K1 + 1)) / (f + BM25_K1 * (1 - BM25_B + (BM25_B * length) / avgdl));
}
