/**
 * The LanceDB store on its own: exact vs approximate search, the write protocol's recovery of videos
 * a killed run left half-written, and what it refuses.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SearchStore, type ClipRow } from '../../src/search/store.js';

const DIM = 16;
const MODEL = 'test-model';
const stores: SearchStore[] = [];

async function openStore(): Promise<SearchStore> {
  const s = await SearchStore.open(join(mkdtempSync(join(tmpdir(), 'sightline-store-')), 'db'));
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
  it('exact search ranks by cosine; above the threshold an IVF_PQ index is built and still finds the nearest clip', async () => {
    const store = await openStore();
    const r = rng(1);
    const rows = Array.from({ length: 600 }, (_, i) => row(`/v/${i % 20}.mp4`, Math.floor(i / 20) * 10, unit(r)));
    await store.beginVideo('/v/all', 'h', MODEL, DIM);
    await store.addClips(MODEL, DIM, rows);
    await store.completeVideo({ path: '/v/all', hash: 'h', model: MODEL, sizeBytes: 1, mtimeMs: 1, durationSec: 1, clips: 600, indexedAt: '' });
    const target = rows[123];
    const exact = await store.searchClips(MODEL, target.vector, 3);
    expect([exact[0].video, exact[0].start]).toEqual([target.video, target.start]);
    expect(exact[0].score).toBeCloseTo(1, 4);
    let dot = 0;
    for (let j = 0; j < DIM; j++) dot += target.vector[j] * rows.find((x) => x.video === exact[1].video && x.start === exact[1].start)!.vector[j];
    expect(exact[1].score).toBeCloseTo(dot, 4);

    expect(await store.maybeBuildAnnIndex(MODEL, 1000)).toBe('none'); // below the threshold: stays exact
    expect(await store.maybeBuildAnnIndex(MODEL, 500)).toBe('built');
    expect(await store.hasAnnIndex(MODEL)).toBe(true);
    for (const t of [rows[5], rows[123], rows[599]]) {
      const [best] = await store.searchClips(MODEL, t.vector, 5);
      expect([best.video, best.start]).toEqual([t.video, t.start]);
    }
    expect(await store.maybeBuildAnnIndex(MODEL, 500)).toBe('current');
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
