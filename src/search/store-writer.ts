/**
 * The write protocol of the search index. Crash safety (kill -9 at any point): every LanceDB write is an
 * atomic commit of a new table version, so each table is always readable. A video is indexed as
 *
 *   add pending row -> drop the path's old rows -> add clip rows (one commit per batch) -> add videos row -> drop pending row
 *
 * and a video counts as indexed only once its `videos` row exists. `recover()` (run before indexing)
 * finishes or rolls back every pending video: complete ones just lose the pending row, the rest lose
 * their clip rows, so no half-indexed video is ever searched twice or left partial after a resume.
 * One writer at a time per database (the CLI indexer or the server); readers may run alongside.
 */
import { indexedVideo } from './store-query.js';
import { clipsTableName, PENDING, plain, sqlString, VIDEOS, type ClipRow, type StoreTables, type VideoRow } from './store-tables.js';

/** Step 1-2: mark `path` pending, then drop whatever an earlier version left. */
export async function beginVideo(s: StoreTables, path: string, hash: string, model: string, dim: number): Promise<void> {
  await (await s.pending()).add([{ path, hash, model }]);
  s.forgetFacts();
  await dropVideo(s, path, model, dim);
}

/** Step 3, once per batch of clips. */
export async function addClips(s: StoreTables, model: string, dim: number, rows: ClipRow[]): Promise<void> {
  if (rows.length === 0) return;
  const t = await s.clipsTable(model, dim);
  await t.add(rows.map((r) => ({ ...r, vector: Array.from(r.vector), thumbnail: Buffer.from(r.thumbnail.buffer, r.thumbnail.byteOffset, r.thumbnail.byteLength) })));
}

/** Last steps: the videos row makes the video count; then the pending mark goes. */
export async function completeVideo(s: StoreTables, row: VideoRow): Promise<void> {
  await (await s.videos()).add([{ ...row }]);
  await (await s.pending()).delete(`path = ${sqlString(row.path)} AND model = ${sqlString(row.model)}`);
  s.forgetFacts();
}

/** Removes a video's rows for `model` (its videos row first, so it never counts while half gone). */
export async function dropVideo(s: StoreTables, path: string, model: string, dim: number): Promise<void> {
  const where = `path = ${sqlString(path)} AND model = ${sqlString(model)}`;
  await (await s.videos()).delete(where);
  await (await s.clipsTable(model, dim)).delete(`video = ${sqlString(path)}`);
}

/** Rolls back or finishes every video a killed run left pending for `model`; returns the paths rolled back. */
export async function recover(s: StoreTables, model: string, dim: number): Promise<string[]> {
  const pending = await (await s.pending()).query().where(`model = ${sqlString(model)}`).toArray();
  const rolledBack: string[] = [];
  for (const p of pending.map((r) => plain(r) as { path: string; hash: string; model: string })) {
    const done = await indexedVideo(s, p.path, model);
    if (!done || done.hash !== p.hash) {
      await dropVideo(s, p.path, model, dim);
      rolledBack.push(p.path);
    }
    await (await s.pending()).delete(`path = ${sqlString(p.path)} AND model = ${sqlString(model)}`);
  }
  s.forgetFacts();
  return rolledBack;
}

/** Compacts small commits and drops old versions (called at the end of an indexing run). */
export async function compact(s: StoreTables, model: string): Promise<void> {
  for (const name of [clipsTableName(model), VIDEOS, PENDING]) {
    const t = await s.table(name);
    await t?.optimize({ cleanupOlderThan: new Date(Date.now() - 60_000) });
  }
}
