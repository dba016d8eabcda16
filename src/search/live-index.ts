/**
 * Live commentary made searchable: the server hands every commentary segment of every stream to
 * `add()`; segments are buffered and written to the `live_segments` table once per `flushMs`
 * (default 1 s), so a segment is searchable about a second after it is spoken.
 *
 * Matching is LanceDB full-text search (BM25 over a tokenised, stemmed `text` column), not the
 * retrieval text tower: commentary is short free text that users search by its words ("goal",
 * "corner to Red"), and the text tower was trained to match captions to video, not text to text.
 * LanceDB's FTS also searches rows added after the index was built, so no re-index is needed.
 */
import * as lancedb from '@lancedb/lancedb';
import { Field, Float64, Schema, Utf8 } from 'apache-arrow';
import type { SearchStore } from './store.js';

export const LIVE_TABLE = 'live_segments';
export const DEFAULT_LIVE_FLUSH_MS = 1000;
/** Segments buffered before new ones are dropped (a stuck disk must not grow memory): 10,000. */
export const DEFAULT_LIVE_MAX_BUFFERED = 10_000;
/** Every this many commits the table is compacted and its FTS index brought up to date. */
export const LIVE_OPTIMIZE_EVERY = 300;

export interface LiveSegment {
  stream: string;
  text: string;
  start: number;
  end: number;
}

export interface LiveHit extends LiveSegment {
  /** BM25 relevance (not comparable with clip cosine scores). */
  score: number;
}

const schema = new Schema([
  new Field('stream', new Utf8(), false),
  new Field('text', new Utf8(), false),
  new Field('start', new Float64(), false),
  new Field('end', new Float64(), false),
  new Field('wallMs', new Float64(), false),
]);

/** Silence (" ...") and punctuation-only text carry nothing to search for. */
const hasWords = (text: string): boolean => /[\p{L}\p{N}]/u.test(text);

export class LiveSegmentIndex {
  private buffer: (LiveSegment & { wallMs: number })[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private ready: Promise<lancedb.Table> | undefined;
  private commits = 0;
  dropped = 0;

  constructor(
    private readonly store: SearchStore,
    private readonly flushMs = DEFAULT_LIVE_FLUSH_MS,
    private readonly maxBuffered = DEFAULT_LIVE_MAX_BUFFERED,
    private readonly onError: (err: unknown) => void = () => {},
  ) {}

  add(segment: LiveSegment): void {
    if (!hasWords(segment.text)) return;
    if (this.buffer.length >= this.maxBuffered) {
      this.dropped++;
      return;
    }
    this.buffer.push({ ...segment, text: segment.text.trim(), wallMs: Date.now() });
    this.timer ??= setTimeout(() => void this.flush(), this.flushMs);
  }

  /** Writes what is buffered (one commit); resolves when it is on disk. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const rows = this.buffer;
    this.buffer = [];
    if (rows.length > 0) {
      this.writing = this.writing.then(async () => {
        try {
          const t = await this.table();
          await t.add(rows.map((r) => ({ ...r })));
          if (++this.commits % LIVE_OPTIMIZE_EVERY === 0) await t.optimize({ cleanupOlderThan: new Date(Date.now() - 60_000) });
        } catch (err) {
          this.onError(err);
        }
      });
    }
    return this.writing;
  }

  async search(query: string, k: number): Promise<LiveHit[]> {
    const names = await this.store.db.tableNames();
    if (!names.includes(LIVE_TABLE)) return [];
    const rows = await (await this.table()).search(query, 'fts').select(['stream', 'text', 'start', 'end', '_score']).limit(k).toArray();
    return rows.map((r) => ({ stream: r.stream, text: r.text, start: r.start, end: r.end, score: r._score }));
  }

  async close(): Promise<void> {
    await this.flush();
  }

  private table(): Promise<lancedb.Table> {
    this.ready ??= (async () => {
      const t = (await this.store.table(LIVE_TABLE, schema))!;
      if (!(await t.listIndices()).some((i) => i.columns.includes('text'))) await t.createIndex('text', { config: lancedb.Index.fts() });
      return t;
    })();
    this.ready.catch(() => (this.ready = undefined));
    return this.ready;
  }
}
