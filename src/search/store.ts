/**
 * The on-disk search index: one LanceDB database (a folder), tables:
 *
 *   clips__<model>   vector (float32 x D, L2-normed) | video | hash | start | end | thumbnail (JPEG) | model
 *   videos           path | hash | model | sizeBytes | mtimeMs | durationSec | clips | indexedAt
 *   pending          path | hash | model            (a video whose clips are being written)
 *   live_segments    see live-index.ts
 *
 * Crash safety (kill -9 at any point): every LanceDB write is an atomic commit of a new table
 * version, so each table is always readable. A video is indexed as
 *
 *   add pending row -> drop the path's old rows -> add clip rows (one commit per batch) -> add videos row -> drop pending row
 *
 * and a video counts as indexed only once its `videos` row exists. `recover()` (run before indexing)
 * finishes or rolls back every pending video: complete ones just lose the pending row, the rest lose
 * their clip rows, so no half-indexed video is ever searched twice or left partial after a resume.
 * One writer at a time per database (the CLI indexer or the server); readers may run alongside.
 */
import { mkdirSync } from 'node:fs';
import * as lancedb from '@lancedb/lancedb';
import { Binary, Field, FixedSizeList, Float32, Float64, Int32, Schema, Utf8 } from 'apache-arrow';
import { SightlineError } from '../errors.js';
import { annParams, EXACT_BELOW_ROWS, ivfNprobes, type AnnIndexConfig, type AnnParams } from './ann-params.js';
import { applyAnnQuery, lanceIndex } from './ann-lancedb.js';

/** How stale a read may be with respect to another process's writes, in seconds. */
export const READ_CONSISTENCY_SEC = 1;

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

export interface StoreOptions {
  /** Rows from which a clip table gets an approximate index; ann-params' EXACT_BELOW_ROWS unless a test lowers it. */
  exactBelowRows?: number;
}

/** What `maintainAnnIndex` did: nothing to index, a new index, new rows merged into the index, or nothing to do. */
export type AnnIndexAction = 'none' | 'built' | 'refreshed' | 'current';

/**
 * The approximate index of a clip table as built by this store. Its name records the type and the
 * partition count (LanceDB does not report them), so queries probe by the partitions the index really
 * has and the store knows when the table has outgrown it: `vector_ivf_flat_p316`.
 */
interface BuiltIndex {
  name: string;
  config: AnnIndexConfig;
}

const annIndexName = (c: AnnIndexConfig): string => `vector_${c.type.toLowerCase()}_p${c.numPartitions}`;

/** Only IVF_FLAT (ann-params' choice) is fully described by type + partitions; another type would need its knobs in the name. */
function parseAnnIndexName(name: string): BuiltIndex | undefined {
  const m = /^vector_ivf_flat_p(\d+)$/.exec(name);
  return m ? { name, config: { type: 'IVF_FLAT', numPartitions: Number(m[1]) } } : undefined;
}

export interface ClipHit {
  video: string;
  start: number;
  end: number;
  /** Cosine similarity of the query and the clip (both vectors are L2-normed). */
  score: number;
  thumbnail: Uint8Array;
}

const VIDEOS = 'videos';
const PENDING = 'pending';

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
export function clipsTableName(model: string): string {
  return `clips__${model.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

export class SearchStore {
  private readonly tables = new Map<string, lancedb.Table>();
  /**
   * Per-query facts kept for READ_CONSISTENCY_SEC (another process's change shows up as late as its
   * rows would): which models have an ANN index, which videos are unfinished. Own writes clear them.
   */
  private readonly queryFacts = new Map<string, { atMs: number; value: Promise<unknown> }>();

  private fact<T>(key: string, load: () => Promise<T>): Promise<T> {
    const known = this.queryFacts.get(key);
    if (known && Date.now() - known.atMs < READ_CONSISTENCY_SEC * 1000) return known.value as Promise<T>;
    const value = load();
    this.queryFacts.set(key, { atMs: Date.now(), value });
    value.catch(() => this.queryFacts.delete(key));
    return value;
  }

  private constructor(
    readonly dbPath: string,
    readonly db: lancedb.Connection,
    readonly exactBelowRows: number,
  ) {}

  static async open(dbPath: string, options: StoreOptions = {}): Promise<SearchStore> {
    try {
      mkdirSync(dbPath, { recursive: true });
      // Reads look for commits of other processes (a CLI indexer beside the server) at most 1 s late.
      return new SearchStore(dbPath, await lancedb.connect(dbPath, { readConsistencyInterval: READ_CONSISTENCY_SEC }), options.exactBelowRows ?? EXACT_BELOW_ROWS);
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

  private async videos(): Promise<lancedb.Table> {
    return (await this.table(VIDEOS, videosSchema))!;
  }

  private async pending(): Promise<lancedb.Table> {
    return (await this.table(PENDING, pendingSchema))!;
  }

  async clipsTable(model: string, dim: number): Promise<lancedb.Table> {
    const t = (await this.table(clipsTableName(model), clipsSchema(dim)))!;
    const field = (await t.schema()).fields.find((f) => f.name === 'vector');
    const have = (field?.type as FixedSizeList | undefined)?.listSize;
    if (have !== dim) throw new SightlineError('bad_input', `search index ${this.dbPath}: ${clipsTableName(model)} holds ${have}-d vectors, the model gives ${dim}-d`);
    return t;
  }

  /** The complete index entry of `path` for `model`, if any. */
  async indexedVideo(path: string, model: string): Promise<VideoRow | undefined> {
    const rows = await (await this.videos()).query().where(`path = ${sqlString(path)} AND model = ${sqlString(model)}`).limit(1).toArray();
    return rows[0] ? (plain(rows[0]) as unknown as VideoRow) : undefined;
  }

  async listVideos(model?: string): Promise<VideoRow[]> {
    const q = (await this.videos()).query();
    const rows = await (model ? q.where(`model = ${sqlString(model)}`) : q).toArray();
    return rows.map((r) => plain(r) as unknown as VideoRow);
  }

  /** Step 1-2 of the write protocol: mark `path` pending, then drop whatever an earlier version left. */
  async beginVideo(path: string, hash: string, model: string, dim: number): Promise<void> {
    await (await this.pending()).add([{ path, hash, model }]);
    this.queryFacts.clear();
    await this.dropVideo(path, model, dim);
  }

  async addClips(model: string, dim: number, rows: ClipRow[]): Promise<void> {
    if (rows.length === 0) return;
    const t = await this.clipsTable(model, dim);
    await t.add(rows.map((r) => ({ ...r, vector: Array.from(r.vector), thumbnail: Buffer.from(r.thumbnail.buffer, r.thumbnail.byteOffset, r.thumbnail.byteLength) })));
  }

  /** Last steps: the videos row makes the video count; then the pending mark goes. */
  async completeVideo(row: VideoRow): Promise<void> {
    await (await this.videos()).add([{ ...row }]);
    await (await this.pending()).delete(`path = ${sqlString(row.path)} AND model = ${sqlString(row.model)}`);
    this.queryFacts.clear();
  }

  /** Removes a video's rows for `model` (its videos row first, so it never counts while half gone). */
  async dropVideo(path: string, model: string, dim: number): Promise<void> {
    const where = `path = ${sqlString(path)} AND model = ${sqlString(model)}`;
    await (await this.videos()).delete(where);
    await (await this.clipsTable(model, dim)).delete(`video = ${sqlString(path)}`);
  }

  /** Rolls back or finishes every video a killed run left pending for `model`; returns the paths rolled back. */
  async recover(model: string, dim: number): Promise<string[]> {
    const pending = await (await this.pending()).query().where(`model = ${sqlString(model)}`).toArray();
    const rolledBack: string[] = [];
    for (const p of pending.map((r) => plain(r) as { path: string; hash: string; model: string })) {
      const done = await this.indexedVideo(p.path, model);
      if (!done || done.hash !== p.hash) {
        await this.dropVideo(p.path, model, dim);
        rolledBack.push(p.path);
      }
      await (await this.pending()).delete(`path = ${sqlString(p.path)} AND model = ${sqlString(model)}`);
    }
    this.queryFacts.clear();
    return rolledBack;
  }

  async pendingPaths(model: string): Promise<string[]> {
    const t = await this.table(PENDING);
    if (!t) return [];
    return (await t.query().where(`model = ${sqlString(model)}`).select(['path']).toArray()).map((r) => r.path as string);
  }

  /** Pending videos whose videos row is missing or older: their clip rows are not a whole video. */
  private unfinishedPaths(model: string): Promise<string[]> {
    return this.fact(`unfinished:${model}`, () => this.loadUnfinishedPaths(model));
  }

  private async loadUnfinishedPaths(model: string): Promise<string[]> {
    const t = await this.table(PENDING);
    if (!t) return [];
    const pending = await t.query().where(`model = ${sqlString(model)}`).select(['path', 'hash']).toArray();
    const out: string[] = [];
    for (const p of pending) if ((await this.indexedVideo(p.path, model))?.hash !== p.hash) out.push(p.path);
    return out;
  }

  async countClips(model: string): Promise<number> {
    const t = await this.table(clipsTableName(model));
    return t ? t.countRows() : 0;
  }

  /**
   * Keeps a clip table's approximate index in line with ann-params.ts (called after rows were added):
   * below `exactBelowRows` nothing (search is exact); no index of ours yet, or one of another type, or
   * the table has grown so that annParams asks for at least twice the partitions: (re)build it, then
   * drop any other vector index (the old one stays usable until the new one is committed). Otherwise
   * rows added since the build are merged into the existing partitions (`optimize`, no retraining), so
   * queries never brute-force a growing tail: LanceDB's flat scan is 21 ms at 2e4 rows, 0.3-2 s at 1e5.
   */
  async maintainAnnIndex(model: string): Promise<AnnIndexAction> {
    const t = await this.table(clipsTableName(model));
    if (!t) return 'none';
    const want = annParams(await t.countRows(), await vectorDim(t), this.exactBelowRows);
    const vectorIndexes = (await t.listIndices()).filter((i) => i.columns.includes('vector'));
    const built = vectorIndexes.map((i) => parseAnnIndexName(i.name)).find((b) => b !== undefined);
    if (!want.index) return built ? 'current' : 'none';
    if (!built || built.config.type !== want.index.type || want.index.numPartitions >= 2 * built.config.numPartitions) {
      const name = annIndexName(want.index);
      await t.createIndex('vector', { config: lanceIndex(want.index, want.distanceType), name, replace: true });
      for (const i of vectorIndexes) if (i.name !== name) await t.dropIndex(i.name);
      this.queryFacts.clear();
      return 'built';
    }
    const stats = await t.indexStats(built.name);
    if (!stats || stats.numUnindexedRows === 0) return 'current';
    await t.optimize();
    this.queryFacts.clear();
    return 'refreshed';
  }

  /** The index of ours a query can use, if any (another process may build one: kept READ_CONSISTENCY_SEC). */
  private annIndex(model: string): Promise<BuiltIndex | undefined> {
    return this.fact(`ann:${model}`, async () => {
      const t = await this.table(clipsTableName(model));
      if (!t) return undefined;
      return (await t.listIndices()).map((i) => parseAnnIndexName(i.name)).find((b) => b !== undefined);
    });
  }

  async hasAnnIndex(model: string): Promise<boolean> {
    return (await this.annIndex(model)) !== undefined;
  }

  /**
   * Query settings for `model`'s table: ann-params' choice for its size, probing by the partitions of the
   * index actually built. Exact (bypassVectorIndex) below `exactBelowRows` and while there is no index of
   * ours (a foreign one, e.g. an older dot-product IVF_PQ, would be brute-forced by LanceDB anyway).
   */
  private async queryParams(model: string, t: lancedb.Table, dim: number): Promise<AnnParams> {
    const [rows, built] = await Promise.all([this.fact(`rows:${model}`, () => t.countRows()), this.annIndex(model)]);
    const want = annParams(rows, dim, this.exactBelowRows);
    if (!want.index || !built) return { ...want, index: null };
    return { ...want, index: built.config, query: { nprobes: ivfNprobes(built.config.numPartitions) } };
  }

  /** Nearest clips by cosine similarity: exact below the ANN threshold, ann-params' IVF_FLAT from there. */
  async searchClips(model: string, vector: Float32Array, k: number): Promise<ClipHit[]> {
    const t = await this.table(clipsTableName(model));
    if (!t) return [];
    const p = await this.queryParams(model, t, vector.length);
    let q = applyAnnQuery(t.vectorSearch(Array.from(vector)).select(['video', 'start', 'end', 'thumbnail', '_distance']).limit(k), p);
    // A video being written (or left half-written by a killed run) is not searchable until complete.
    const pending = await this.unfinishedPaths(model);
    if (pending.length > 0) q = q.where(`video NOT IN (${pending.map(sqlString).join(', ')})`);
    const rows = await q.toArray();
    // LanceDB's l2 distance is the squared distance, |a - b|^2 = 2 - 2 a.b on unit vectors: score = cosine.
    return rows.map((r) => ({ video: r.video, start: r.start, end: r.end, score: 1 - r._distance / 2, thumbnail: r.thumbnail as Uint8Array }));
  }

  /** Compacts small commits and drops old versions (called at the end of an indexing run). */
  async compact(model: string): Promise<void> {
    for (const name of [clipsTableName(model), VIDEOS, PENDING]) {
      const t = await this.table(name);
      await t?.optimize({ cleanupOlderThan: new Date(Date.now() - 60_000) });
    }
  }

  close(): void {
    for (const t of this.tables.values()) t.close();
    this.tables.clear();
    this.db.close();
  }
}

async function vectorDim(t: lancedb.Table): Promise<number> {
  return ((await t.schema()).fields.find((f) => f.name === 'vector')!.type as FixedSizeList).listSize;
}

/** Arrow row proxy -> plain object with numbers (Int32/Float64 already are). */
function plain(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row.toJSON ? (row.toJSON as () => object)() : row)) out[k] = typeof v === 'bigint' ? Number(v) : v;
  return out;
}
