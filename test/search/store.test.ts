/**
 * The LanceDB store on its own: exact vs approximate search, the write protocol's recovery of videos
 * a killed run left half-written, and what it refuses.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import * as lancedb from '@lancedb/lancedb';
import { annParams, EXACT_BELOW_ROWS } from '../../src/search/ann-params.js';
import { clipsTableName, SearchStore, type ClipRow, type StoreOptions } from '../../src/search/store.js';

const DIM = 16;
const MODEL = 'test-model';
const stores: SearchStore[] = [];

async function openStore(dbPath = join(mkdtempSync(join(tmpdir(), 'sightline-store-')), 'db'), options?: StoreOptions): Promise<SearchStore> {
  const s = await SearchStore.open(dbPath, options);
  stores.push(s);
  return s;
}

afterEach(() => {
  for (const s of stores.splice(0)) s.close();
});

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
}

function unit(r: () => number): Float32Array {
  const v = Float32Array.from({ length: DIM }, r);
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

const row = (video: string, start: number, vector: Float32Array): ClipRow => ({ vector, video, hash: 'h', start, end: start + 10, thumbnail: new Uint8Array([0xff, 0xd8, 0xff]), model: MODEL });

describe('SearchStore', () => {
  it('exact search ranks by cosine; from exactBelowRows the ann-params IVF_FLAT index is built, used and kept up to date', async () => {
    const store = await openStore();
    expect(store.exactBelowRows).toBe(EXACT_BELOW_ROWS); // the default is ann-params' choice
    const r = rng(1);
    const rows = Array.from({ length: 600 }, (_, i) => row(`/v/${i % 20}.mp4`, Math.floor(i / 20) * 10, unit(r)));
    await store.beginVideo('/v/all', 'h', MODEL, DIM);
    await store.addClips(MODEL, DIM, rows);
    await store.completeVideo({ path: '/v/all', hash: 'h', model: MODEL, sizeBytes: 1, mtimeMs: 1, durationSec: 1, clips: 600, indexedAt: '' });
    const target = rows[123];
    const cosine = (a: Float32Array, b: Float32Array): number => a.reduce((s, x, j) => s + x * b[j], 0);
    const vectorOf = (h: { video: string; start: number }): Float32Array => rows.find((x) => x.video === h.video && x.start === h.start)!.vector;
    const exact = await store.searchClips(MODEL, target.vector, 3);
    expect([exact[0].video, exact[0].start]).toEqual([target.video, target.start]);
    expect(exact[0].score).toBeCloseTo(1, 4);
    expect(exact[1].score).toBeCloseTo(cosine(target.vector, vectorOf(exact[1])), 4);
    expect(await store.maintainAnnIndex(MODEL)).toBe('none'); // 600 rows < 10,000: stays exact

    // The same database with the threshold lowered to 500 rows: the index is the one annParams picks.
    const low = await openStore(store.dbPath, { exactBelowRows: 500 });
    const want = annParams(600, DIM, 500).index!;
    expect(want).toEqual({ type: 'IVF_FLAT', numPartitions: 64 });
    expect(await low.maintainAnnIndex(MODEL)).toBe('built');
    expect(await low.hasAnnIndex(MODEL)).toBe(true);
    const t = (await low.table(clipsTableName(MODEL)))!;
    const indexes = await t.listIndices();
    expect(indexes.map((i) => i.name)).toEqual(['vector_ivf_flat_p64']);
    expect(await t.indexStats('vector_ivf_flat_p64')).toMatchObject({ indexType: 'IVF_FLAT', distanceType: 'l2', numUnindexedRows: 0 });
    for (const x of [rows[5], rows[123], rows[599]]) {
      const hits = await low.searchClips(MODEL, x.vector, 5);
      expect([hits[0].video, hits[0].start]).toEqual([x.video, x.start]);
      // Scores stay cosine similarities through the l2 index.
      for (const h of hits) expect(h.score).toBeCloseTo(cosine(x.vector, vectorOf(h)), 4);
    }
    expect(await low.maintainAnnIndex(MODEL)).toBe('current');

    // New rows are merged into the existing partitions, not searched by a flat scan.
    const more = Array.from({ length: 100 }, (_, i) => row('/v/more.mp4', i * 10, unit(r)));
    await low.addClips(MODEL, DIM, more);
    expect((await t.indexStats('vector_ivf_flat_p64'))!.numUnindexedRows).toBe(100);
    expect(await low.maintainAnnIndex(MODEL)).toBe('refreshed');
    expect((await t.indexStats('vector_ivf_flat_p64'))!.numUnindexedRows).toBe(0);
    const [best] = await low.searchClips(MODEL, more[42].vector, 1);
    expect([best.video, best.start]).toEqual(['/v/more.mp4', 420]);
  });

  it('rebuilds the index once annParams wants twice the partitions, replacing any other vector index', async () => {
    const store = await openStore(undefined, { exactBelowRows: 500 });
    const r = rng(4);
    const batch = (n: number, video: string): ClipRow[] => Array.from({ length: n }, (_, i) => row(video, i * 10, unit(r)));
    await store.addClips(MODEL, DIM, batch(600, '/v/a.mp4'));
    // An index of the kind the store built before ann-params (dot-product IVF_PQ, default name).
    const t = (await store.table(clipsTableName(MODEL)))!;
    await t.createIndex('vector', { config: lancedb.Index.ivfPq({ distanceType: 'dot', numPartitions: 4, numSubVectors: 2 }) });
    expect(await store.hasAnnIndex(MODEL)).toBe(false);
    expect(await store.maintainAnnIndex(MODEL)).toBe('built');
    expect((await t.listIndices()).map((i) => i.name)).toEqual(['vector_ivf_flat_p64']);

    // 10,000 rows: annParams wants 100 partitions, less than twice the built 64: new rows only merged.
    await store.addClips(MODEL, DIM, batch(9_400, '/v/b.mp4'));
    expect(annParams(10_000, DIM, 500).index).toEqual({ type: 'IVF_FLAT', numPartitions: 100 });
    expect(await store.maintainAnnIndex(MODEL)).toBe('refreshed');
    expect((await t.listIndices()).map((i) => i.name)).toEqual(['vector_ivf_flat_p64']);
    // 16,384 rows: annParams asks for 128 partitions, twice the built 64: rebuilt.
    await store.addClips(MODEL, DIM, batch(16_384 - 10_000, '/v/c.mp4'));
    expect(await store.maintainAnnIndex(MODEL)).toBe('built');
    expect((await t.listIndices()).map((i) => i.name)).toEqual(['vector_ivf_flat_p128']);
    const probe = unit(r);
    await store.addClips(MODEL, DIM, [row('/v/d.mp4', 0, probe)]);
    const [best] = await store.searchClips(MODEL, probe, 1);
    expect(best.video).toBe('/v/d.mp4');
  });

  it('recover() rolls back a video left pending and keeps one that completed', async () => {
    const store = await openStore();
    const r = rng(2);
    // Completed, but killed before the pending mark went.
    await store.beginVideo('/v/done.mp4', 'h1', MODEL, DIM);
    await store.addClips(MODEL, DIM, [row('/v/done.mp4', 0, unit(r))]);
    await store.completeVideo({ path: '/v/done.mp4', hash: 'h1', model: MODEL, sizeBytes: 1, mtimeMs: 1, durationSec: 10, clips: 1, indexedAt: '' });
    await (await store.table('pending'))!.add([{ path: '/v/done.mp4', hash: 'h1', model: MODEL }]);
    // Killed after some clip rows were committed.
    await store.beginVideo('/v/half.mp4', 'h2', MODEL, DIM);
    const half = unit(r);
    await store.addClips(MODEL, DIM, [row('/v/half.mp4', 0, half), row('/v/half.mp4', 10, unit(r))]);

    // Before recovery the half-written video is readable but not searchable.
    expect((await store.searchClips(MODEL, half, 5)).map((h) => h.video)).toEqual(['/v/done.mp4']);
    expect((await store.recover(MODEL, DIM)).sort()).toEqual(['/v/half.mp4']);
    expect(await store.pendingPaths(MODEL)).toEqual([]);
    expect(await store.countClips(MODEL)).toBe(1);
    expect(await store.indexedVideo('/v/done.mp4', MODEL)).toMatchObject({ hash: 'h1', clips: 1 });
    expect(await store.indexedVideo('/v/half.mp4', MODEL)).toBeUndefined();
  });

  it('re-indexing a changed file replaces its rows; other models keep their own tables', async () => {
    const store = await openStore();
    const r = rng(3);
    await store.beginVideo('/v/a.mp4', 'old', MODEL, DIM);
    await store.addClips(MODEL, DIM, [row('/v/a.mp4', 0, unit(r)), row('/v/a.mp4', 10, unit(r))]);
    await store.completeVideo({ path: '/v/a.mp4', hash: 'old', model: MODEL, sizeBytes: 1, mtimeMs: 1, durationSec: 20, clips: 2, indexedAt: '' });
    await store.beginVideo('/v/a.mp4', 'new', MODEL, DIM);
    expect(await store.indexedVideo('/v/a.mp4', MODEL)).toBeUndefined();
    expect(await store.countClips(MODEL)).toBe(0);
    await store.beginVideo('/v/a.mp4', 'x', 'other-model', 4);
    await expect(store.addClips('other-model', DIM, [row('/v/a.mp4', 0, unit(r))])).rejects.toThrow(/holds 4-d vectors, the model gives 16-d/);
  });
});
