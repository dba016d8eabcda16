/**
 * One open search database (a LanceDB folder): its tables, opened once and kept, and the per-query
 * facts the query side caches (store-query.ts) and every write clears.
 *
 *   clips__<model>   vector (float32 x D, L2-normed) | video | hash | start | end | thumbnail (JPEG) | model
 *   videos           path | hash | model | sizeBytes | mtimeMs | durationSec | clips | indexedAt
 *   pending          path | hash | model            (a video whose clips are being written)
 *   live_segments    see live-index.ts
 */
import { mkdirSync } from 'node:fs';
import * as lancedb from '@lancedb/lancedb';
import { Binary, Field, FixedSizeList, Float32, Float64, Int32, Schema, Utf8 } from 'apache-arrow';
import { SightlineError } from '../errors.js';

/** How stale a read may be with respect to another process's writes, in seconds. */
export const READ_CONSISTENCY_SEC = 1;

/**
 * LanceDB's cache of file metadata (manifests, fragment footers) per open database: 32 MiB. LanceDB's
 * default is 1 GiB, and every commit adds to it (~0.1 MB each for live_segments, which commits once a
 * second), so a server's RSS climbed for hours towards that gigabyte (bench/results/soak-quick.md). Its
 * index cache keeps LanceDB's default (6 GiB): a 1e6-clip IVF_FLAT index is ~1 GB and must fit.
 */
export const DEFAULT_METADATA_CACHE_BYTES = 32 * 2 ** 20;

export interface StoreTablesOptions {
  /** Bound of LanceDB's metadata cache (default DEFAULT_METADATA_CACHE_BYTES). */
  metadataCacheBytes?: number;
}

export interface ClipRow {
  vector: Float32Array;
  video: string;
  hash: string;
  start: number;
  end: number;
  thumbnail: Uint8Array;
  model: string;
}

export interface VideoRow {
  path: string;
  hash: string;
  model: string;
  sizeBytes: number;
  mtimeMs: number;
  durationSec: number;
  clips: number;
  indexedAt: string;
}

export const VIDEOS = 'videos';
export const PENDING = 'pending';

const videosSchema = new Schema([
  new Field('path', new Utf8(), false),
  new Field('hash', new Utf8(), false),
  new Field('model', new Utf8(), false),
  new Field('sizeBytes', new Float64(), false),
  new Field('mtimeMs', new Float64(), false),
  new Field('durationSec', new Float64(), false),
  new Field('clips', new Int32(), false),
  new Field('indexedAt', new Utf8(), false),
]);
const pendingSchema = new Schema([new Field('path', new Utf8(), false), new Field('hash', new Utf8(), false), new Field('model', new Utf8(), false)]);

function clipsSchema(dim: number): Schema {
  return new Schema([
    new Field('vector', new FixedSizeList(dim, new Field('item', new Float32(), true)), false),
    new Field('video', new Utf8(), false),
    new Field('hash', new Utf8(), false),
    new Field('start', new Float64(), false),
    new Field('end', new Float64(), false),
    new Field('thumbnail', new Binary(), false),
    new Field('model', new Utf8(), false),
  ]);
}

/** SQL string literal for LanceDB filters. */
export const sqlString = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/** Table name of a model's clips: `clips__` + the name with anything outside [A-Za-z0-9_] as `_`. */
const CLIPS_TABLE_PREFIX = 'clips__';

export function clipsTableName(model: string): string {
  return `${CLIPS_TABLE_PREFIX}${model.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

export class StoreTables {
  private readonly tables = new Map<string, lancedb.Table>();
  /**
   * Per-query facts kept for READ_CONSISTENCY_SEC (another process's change shows up as late as its
   * rows would): which models have an ANN index, which videos are unfinished. Own writes clear them.
   */
  private readonly facts = new Map<string, { atMs: number; value: Promise<unknown> }>();

  private constructor(
    readonly dbPath: string,
    readonly db: lancedb.Connection,
    private readonly session: lancedb.Session,
  ) {}

  static async open(dbPath: string, options: StoreTablesOptions = {}): Promise<StoreTables> {
    try {
      mkdirSync(dbPath, { recursive: true });
      const session = new lancedb.Session(undefined, BigInt(options.metadataCacheBytes ?? DEFAULT_METADATA_CACHE_BYTES));
      // Reads look for commits of other processes (a CLI indexer beside the server) at most 1 s late.
      return new StoreTables(dbPath, await lancedb.connect(dbPath, { readConsistencyInterval: READ_CONSISTENCY_SEC, session }), session);
    } catch (err) {
      throw new SightlineError('bad_input', `search index ${dbPath}: cannot be opened (${(err as Error).message.split('\n')[0]})`, { cause: err });
    }
  }

  /** Opens (or creates, when `schema` is given) a table; undefined if absent and not created. */
  async table(name: string, schema?: Schema): Promise<lancedb.Table | undefined> {
    const known = this.tables.get(name);
    if (known) return known;
    const names = await this.db.tableNames();
    let t: lancedb.Table | undefined;
    if (names.includes(name)) t = await this.db.openTable(name);
    else if (schema) t = await this.db.createEmptyTable(name, schema, { existOk: true });
    if (t) this.tables.set(name, t);
    return t;
  }

  async videos(): Promise<lancedb.Table> {
    return (await this.table(VIDEOS, videosSchema))!;
  }

  async pending(): Promise<lancedb.Table> {
    return (await this.table(PENDING, pendingSchema))!;
  }

  async clipsTable(model: string, dim: number): Promise<lancedb.Table> {
    const t = (await this.table(clipsTableName(model), clipsSchema(dim)))!;
    const field = (await t.schema()).fields.find((f) => f.name === 'vector');
    const have = (field?.type as FixedSizeList | undefined)?.listSize;
    if (have !== dim) throw new SightlineError('bad_input', `search index ${this.dbPath}: ${clipsTableName(model)} holds ${have}-d vectors, the model gives ${dim}-d`);
    return t;
  }

  /** A fact for queries: `load`ed at most once per READ_CONSISTENCY_SEC; a failed load is not kept. */
  fact<T>(key: string, load: () => Promise<T>): Promise<T> {
    const known = this.facts.get(key);
    if (known && Date.now() - known.atMs < READ_CONSISTENCY_SEC * 1000) return known.value as Promise<T>;
    const value = load();
    this.facts.set(key, { atMs: Date.now(), value });
    value.catch(() => this.facts.delete(key));
    return value;
  }

  /** Bytes in LanceDB's caches (metadata and index) of this database. */
  cacheBytes(): number {
    return Number(this.session.sizeBytes());
  }

  /** After an own write: the next query reads the facts afresh. */
  forgetFacts(): void {
    this.facts.clear();
  }

  /**
   * After a write of another process this one waited for (an index job, index-job.ts): the facts are read
   * afresh and the video tables held here move to the latest version now rather than within
   * READ_CONSISTENCY_SEC. The live table, which only this process writes, is left alone.
   */
  async afterOutsideWrite(): Promise<void> {
    this.facts.clear();
    const video = [...this.tables].filter(([name]) => name === VIDEOS || name === PENDING || name.startsWith(CLIPS_TABLE_PREFIX));
    await Promise.all(video.map(([, t]) => t.checkoutLatest()));
  }

  close(): void {
    for (const t of this.tables.values()) t.close();
    this.tables.clear();
    this.db.close();
  }
}

export async function vectorDim(t: lancedb.Table): Promise<number> {
  return ((await t.schema()).fields.find((f) => f.name === 'vector')!.type as FixedSizeList).listSize;
}

/** Arrow row proxy -> plain object with numbers (Int32/Float64 already are). */
export function plain(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row.toJSON ? (row.toJSON as () => object)() : row)) out[k] = typeof v === 'bigint' ? Number(v) : v;
  return out;
}
