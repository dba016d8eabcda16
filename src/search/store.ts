/**
 * The on-disk search index, one LanceDB database (a folder), as the indexer, the server and the CLI
 * hold it. Each job is its own module; this class only ties them to one open database:
 *
 *   store-tables.ts   the tables, their schemas and the per-query facts (one StoreTables per store)
 *   store-writer.ts   the crash-safe write protocol: begin -> clips -> complete, recover, compact
 *   ann-upkeep.ts     the clip table's approximate index, kept in line with ann-params.ts
 *   store-query.ts    videos, counts and the nearest clips to a query vector
 */
import type * as lancedb from '@lancedb/lancedb';
import type { Schema } from 'apache-arrow';
import { EXACT_BELOW_ROWS } from './ann-params.js';
import { maintainAnnIndex, type AnnIndexAction } from './ann-upkeep.js';
import * as query from './store-query.js';
import { StoreTables, type ClipRow, type StoreTablesOptions, type VideoRow } from './store-tables.js';
import * as writer from './store-writer.js';

export type { AnnIndexAction } from './ann-upkeep.js';
export type { ClipHit } from './store-query.js';
export { DEFAULT_METADATA_CACHE_BYTES, READ_CONSISTENCY_SEC, clipsTableName, sqlString, type ClipRow, type VideoRow } from './store-tables.js';

export interface StoreOptions extends StoreTablesOptions {
  /** Rows from which a clip table gets an approximate index; ann-params' EXACT_BELOW_ROWS unless a test lowers it. */
  exactBelowRows?: number;
}

export class SearchStore {
  private constructor(
    private readonly tables: StoreTables,
    readonly exactBelowRows: number,
  ) {}

  static async open(dbPath: string, options: StoreOptions = {}): Promise<SearchStore> {
    return new SearchStore(await StoreTables.open(dbPath, options), options.exactBelowRows ?? EXACT_BELOW_ROWS);
  }

  get dbPath(): string {
    return this.tables.dbPath;
  }

  get db(): lancedb.Connection {
    return this.tables.db;
  }

  /** Opens (or creates, when `schema` is given) a table; undefined if absent and not created. */
  table(name: string, schema?: Schema): Promise<lancedb.Table | undefined> {
    return this.tables.table(name, schema);
  }

  clipsTable(model: string, dim: number): Promise<lancedb.Table> {
    return this.tables.clipsTable(model, dim);
  }

  // The write protocol (store-writer.ts).
  beginVideo(path: string, hash: string, model: string, dim: number): Promise<void> {
    return writer.beginVideo(this.tables, path, hash, model, dim);
  }

  addClips(model: string, dim: number, rows: ClipRow[]): Promise<void> {
    return writer.addClips(this.tables, model, dim, rows);
  }

  completeVideo(row: VideoRow): Promise<void> {
    return writer.completeVideo(this.tables, row);
  }

  dropVideo(path: string, model: string, dim: number): Promise<void> {
    return writer.dropVideo(this.tables, path, model, dim);
  }

  recover(model: string, dim: number): Promise<string[]> {
    return writer.recover(this.tables, model, dim);
  }

  compact(model: string): Promise<void> {
    return writer.compact(this.tables, model);
  }

  // The approximate index (ann-upkeep.ts), called after rows were added.
  maintainAnnIndex(model: string): Promise<AnnIndexAction> {
    return maintainAnnIndex(this.tables, model, this.exactBelowRows);
  }

  // Reads (store-query.ts).
  indexedVideo(path: string, model: string): Promise<VideoRow | undefined> {
    return query.indexedVideo(this.tables, path, model);
  }

  listVideos(model?: string): Promise<VideoRow[]> {
    return query.listVideos(this.tables, model);
  }

  pendingPaths(model: string): Promise<string[]> {
    return query.pendingPaths(this.tables, model);
  }

  countClips(model: string): Promise<number> {
    return query.countClips(this.tables, model);
  }

  hasAnnIndex(model: string): Promise<boolean> {
    return query.hasAnnIndex(this.tables, model);
  }

  searchClips(model: string, vector: Float32Array, k: number): Promise<query.ClipHit[]> {
    return query.searchClips(this.tables, model, vector, k, this.exactBelowRows);
  }

  /** After another process's write that this one waited for (store-tables.ts). */
  afterOutsideWrite(): Promise<void> {
    return this.tables.afterOutsideWrite();
  }

  /** Bytes in LanceDB's caches of this database (metadata bounded: store-tables.ts). */
  cacheBytes(): number {
    return this.tables.cacheBytes();
  }

  close(): void {
    this.tables.close();
  }
}
