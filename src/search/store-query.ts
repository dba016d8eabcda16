/**
 * Reads of the search index: videos and counts, and the nearest clips to a query vector. A video that
 * is being written (or was left half-written by a killed run) is never searched (store-writer.ts).
 */
import type * as lancedb from '@lancedb/lancedb';
import { annParams, ivfNprobes, type AnnParams } from './ann-params.js';
import { applyAnnQuery } from './ann-lancedb.js';
import { parseAnnIndexName, type BuiltIndex } from './ann-upkeep.js';
import { clipsTableName, PENDING, plain, sqlString, type StoreTables, type VideoRow } from './store-tables.js';

export interface ClipHit {
  video: string;
  start: number;
  end: number;
  /** Cosine similarity of the query and the clip (both vectors are L2-normed). */
  score: number;
  thumbnail: Uint8Array;
}

/** The complete index entry of `path` for `model`, if any. */
export async function indexedVideo(s: StoreTables, path: string, model: string): Promise<VideoRow | undefined> {
  const rows = await (await s.videos()).query().where(`path = ${sqlString(path)} AND model = ${sqlString(model)}`).limit(1).toArray();
  return rows[0] ? (plain(rows[0]) as unknown as VideoRow) : undefined;
}

export async function listVideos(s: StoreTables, model?: string): Promise<VideoRow[]> {
  const q = (await s.videos()).query();
  const rows = await (model ? q.where(`model = ${sqlString(model)}`) : q).toArray();
  return rows.map((r) => plain(r) as unknown as VideoRow);
}

export async function pendingPaths(s: StoreTables, model: string): Promise<string[]> {
  const t = await s.table(PENDING);
  if (!t) return [];
  return (await t.query().where(`model = ${sqlString(model)}`).select(['path']).toArray()).map((r) => r.path as string);
}

export async function countClips(s: StoreTables, model: string): Promise<number> {
  const t = await s.table(clipsTableName(model));
  return t ? t.countRows() : 0;
}

/** Pending videos whose videos row is missing or older: their clip rows are not a whole video. */
function unfinishedPaths(s: StoreTables, model: string): Promise<string[]> {
  return s.fact(`unfinished:${model}`, async () => {
    const t = await s.table(PENDING);
    if (!t) return [];
    const pending = await t.query().where(`model = ${sqlString(model)}`).select(['path', 'hash']).toArray();
    const out: string[] = [];
    for (const p of pending) if ((await indexedVideo(s, p.path, model))?.hash !== p.hash) out.push(p.path);
    return out;
  });
}

/** The index of ours a query can use, if any (another process may build one: kept READ_CONSISTENCY_SEC). */
function annIndex(s: StoreTables, model: string): Promise<BuiltIndex | undefined> {
  return s.fact(`ann:${model}`, async () => {
    const t = await s.table(clipsTableName(model));
    if (!t) return undefined;
    return (await t.listIndices()).map((i) => parseAnnIndexName(i.name)).find((b) => b !== undefined);
  });
}

export async function hasAnnIndex(s: StoreTables, model: string): Promise<boolean> {
  return (await annIndex(s, model)) !== undefined;
}

/**
 * Query settings for `model`'s table: ann-params' choice for its size, probing by the partitions of the
 * index actually built. Exact (bypassVectorIndex) below `exactBelowRows` and while there is no index of
 * ours (a foreign one, e.g. an older dot-product IVF_PQ, would be brute-forced by LanceDB anyway).
 */
async function queryParams(s: StoreTables, model: string, t: lancedb.Table, dim: number, exactBelowRows: number): Promise<AnnParams> {
  const [rows, built] = await Promise.all([s.fact(`rows:${model}`, () => t.countRows()), annIndex(s, model)]);
  const want = annParams(rows, dim, exactBelowRows);
  if (!want.index || !built) return { ...want, index: null };
  return { ...want, index: built.config, query: { nprobes: ivfNprobes(built.config.numPartitions) } };
}

/** Nearest clips by cosine similarity: exact below the ANN threshold, ann-params' IVF_FLAT from there. */
export async function searchClips(s: StoreTables, model: string, vector: Float32Array, k: number, exactBelowRows: number): Promise<ClipHit[]> {
  const t = await s.table(clipsTableName(model));
  if (!t) return [];
  const p = await queryParams(s, model, t, vector.length, exactBelowRows);
  let q = applyAnnQuery(t.vectorSearch(Array.from(vector)).select(['video', 'start', 'end', 'thumbnail', '_distance']).limit(k), p);
  // A video being written (or left half-written by a killed run) is not searchable until complete.
  const pending = await unfinishedPaths(s, model);
  if (pending.length > 0) q = q.where(`video NOT IN (${pending.map(sqlString).join(', ')})`);
  const rows = await q.toArray();
  // LanceDB's l2 distance is the squared distance, |a - b|^2 = 2 - 2 a.b on unit vectors: score = cosine.
  return rows.map((r) => ({ video: r.video, start: r.start, end: r.end, score: 1 - r._distance / 2, thumbnail: r.thumbnail as Uint8Array }));
}
