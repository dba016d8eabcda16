/**
 * Live commentary made searchable: the server hands every commentary segment of every stream to
 * `add()`; segments are buffered and written to the `live_segments` table once per `flushMs`
 * (default 1 s), so a segment is searchable about a second after it is spoken.
 *
 * Matching is BM25 over the words (live-ranking.ts), not the retrieval text tower: commentary is short
 * free text that users search by its words ("goal", "corner to Red"), and the text tower was trained to
 * match captions to video, not text to text. The ranking runs on an in-memory index of the most recent
 * lines (bounded, `maxLines`), fed by add() at once and, for lines of earlier runs or other processes,
 * loaded from the table on the first search: exact, sorted, scores normalised to 0..1 so they merge with
 * clip cosines. The table stays the durable copy (it survives restarts and the CLI reads it).
 *
 * The table is written through a connection of its own to the same database, whose LanceDB metadata cache is
 * small (LIVE_METADATA_CACHE_BYTES): a commit a second leaves a manifest a second in that cache, and in the
 * store's shared cache they pushed it up to its 32 MiB bound over the first ~10 minutes of a server (and the
 * clip tables' metadata out of it); here they fill 4 MiB in about a minute and then replace each other.
 */
import type * as lancedb from '@lancedb/lancedb';
import { Field, Float64, Schema, Utf8 } from 'apache-arrow';
import { DEFAULT_MAX_LIVE_LINES, LiveTermIndex } from './live-ranking.js';
import { SearchStore } from './store.js';

export const LIVE_TABLE = 'live_segments';
export const DEFAULT_LIVE_FLUSH_MS = 1000;
/** Segments buffered before new ones are dropped (a stuck disk must not grow memory): 10,000. */
export const DEFAULT_LIVE_MAX_BUFFERED = 10_000;
/**
 * Every this many commits the table is compacted (one commit a second makes one small fragment each) and
 * versions older than a minute are removed.
 */
export const LIVE_OPTIMIZE_EVERY = 300;
/** LanceDB metadata cache of the live table's own connection: 4 MiB (the latest manifests are all it reads). */
export const LIVE_METADATA_CACHE_BYTES = 4 * 2 ** 20;

export interface LiveSegment {
  stream: string;
  text: string;
  start: number;
  end: number;
}

export interface LiveHit extends LiveSegment {
  /** BM25 normalised to 0..1 (1 = the line has every query word): see live-ranking.ts. */
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
  /** The live table's own connection (see the file comment), opened on first use. */
  private own: Promise<SearchStore> | undefined;
  private opened: SearchStore | undefined;
  private commits = 0;
  private readonly memory: LiveTermIndex;
  /** Lines spoken before this index was made are read from the table (first search). */
  private readonly createdMs = Date.now();
  private loaded: Promise<void> | undefined;
  dropped = 0;

  constructor(
    private readonly store: SearchStore,
    private readonly flushMs = DEFAULT_LIVE_FLUSH_MS,
    private readonly maxBuffered = DEFAULT_LIVE_MAX_BUFFERED,
    private readonly onError: (err: unknown) => void = () => {},
    private readonly maxLines = DEFAULT_MAX_LIVE_LINES,
  ) {
    this.memory = new LiveTermIndex(maxLines);
  }

  add(segment: LiveSegment): void {
    if (!hasWords(segment.text)) return;
    // Fields named one by one: an object spread then overridden is a dictionary-mode object, several times the
    // size, kept for as long as the line is (bench/live-index-memory.ts).
    const { stream, start, end } = segment;
    const line = { stream, text: segment.text.trim(), start, end, wallMs: Math.max(Date.now(), this.createdMs) };
    this.memory.add(line); // searchable at once
    if (this.buffer.length >= this.maxBuffered) {
      this.dropped++;
      return;
    }
    this.buffer.push(line);
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

  /** The k best lines, best first (exact over the lines in memory; see live-ranking.ts). */
  async search(query: string, k: number): Promise<LiveHit[]> {
    this.loaded ??= this.loadEarlier().catch((err: unknown) => {
      this.loaded = undefined;
      throw err;
    });
    await this.loaded;
    return this.memory.search(query, k).map(({ stream, text, start, end, score }) => ({ stream, text, start, end, score }));
  }

  /** The most recent `maxLines` lines written before this index existed (earlier runs, other processes). */
  private async loadEarlier(): Promise<void> {
    const names = await (await this.ownStore()).db.tableNames();
    if (!names.includes(LIVE_TABLE)) return;
    const t = await this.table();
    const rows = await t.query().where(`\`wallMs\` < ${this.createdMs}`).select(['stream', 'text', 'start', 'end', 'wallMs']).toArray();
    const lines = rows.map((r) => ({ stream: String(r.stream), text: String(r.text), start: Number(r.start), end: Number(r.end), wallMs: Number(r.wallMs) }));
    lines.sort((a, b) => a.wallMs - b.wallMs);
    for (const line of lines.slice(-this.maxLines)) this.memory.add(line);
  }

  async close(): Promise<void> {
    await this.flush();
    const own = this.own;
    this.own = this.ready = this.opened = undefined;
    (await own?.catch(() => undefined))?.close();
  }

  /** Bytes in LanceDB's caches of the live table's connection (bounded by LIVE_METADATA_CACHE_BYTES). */
  cacheBytes(): number {
    return this.opened?.cacheBytes() ?? 0;
  }

  private ownStore(): Promise<SearchStore> {
    this.own ??= SearchStore.open(this.store.dbPath, { metadataCacheBytes: LIVE_METADATA_CACHE_BYTES }).then((s) => (this.opened = s));
    this.own.catch(() => (this.own = undefined));
    return this.own;
  }

  private table(): Promise<lancedb.Table> {
    // No full-text index: lines are ranked in memory (live-ranking.ts), and one would be rebuilt at every compaction.
    this.ready ??= this.ownStore().then((own) => own.table(LIVE_TABLE, schema) as Promise<lancedb.Table>);
    this.ready.catch(() => (this.ready = undefined));
    return this.ready;
  }
}
