/**
 * Search ranking: live commentary lines (BM25, normalised) and clips (cosine) merged on one score scale.
 * Each ranking is compared with a brute-force scan of the same data: every stored line read back from the
 * table and scored by an independent BM25 written out below; every clip's cosine computed by hand.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ClipEncoder } from '../../src/model/index.js';
import { LIVE_TABLE, LiveSegmentIndex } from '../../src/search/live-index.js';
import { runSearch } from '../../src/search/query.js';
import { SearchStore, type ClipRow } from '../../src/search/store.js';

const stores: SearchStore[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
});
async function openStore(path = join(mkdtempSync(join(tmpdir(), 'sightline-rank-')), 'db')): Promise<SearchStore> {
  const s = await SearchStore.open(path);
  stores.push(s);
  return s;
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

const WORDS = ['red', 'blue', 'number', '9', '7', 'shoots', 'saves', 'keeper', 'corner', 'cross', 'header', 'wide', 'post', 'pass', 'wing', 'goal', 'foul', 'card'];
const QUERIES = ['number 9 shoots', 'keeper saves', 'corner', 'goal', 'red card foul', 'offside trap', 'blue 7 header wide post'];

/** Textbook BM25 (k1 1.2, b 0.75, Lucene idf), normalised by the query read as a line: the spec of live-ranking.ts. */
function bruteForce(lines: { stream: string; text: string; start: number; wallMs: number }[], query: string, k: number) {
  const words = (t: string): string[] => t.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  const docs = lines.map((l) => ({ ...l, words: words(l.text) })).filter((d) => d.words.length > 0);
  const q = [...new Set(words(query))];
  const avgdl = docs.reduce((s, d) => s + d.words.length, 0) / docs.length;
  const idf = (t: string) => {
    const df = docs.filter((d) => d.words.includes(t)).length;
    return Math.log(1 + (docs.length - df + 0.5) / (df + 0.5));
  };
  const bm25 = (ws: string[]) =>
    q.reduce((s, t) => {
      const f = ws.filter((w) => w === t).length;
      return f === 0 ? s : s + (idf(t) * f * 2.2) / (f + 1.2 * (0.25 + (0.75 * ws.length) / avgdl));
    }, 0);
  const ideal = bm25(q);
  return docs
    .map((d) => ({ stream: d.stream, start: d.start, wallMs: d.wallMs, score: Math.min(1, bm25(d.words) / ideal) }))
    .filter((d) => d.score > 0)
    .sort((a, b) => b.score - a.score || b.wallMs - a.wallMs || (a.stream < b.stream ? -1 : a.stream > b.stream ? 1 : 0) || a.start - b.start)
    .slice(0, k);
}

async function liveCorpus(store: SearchStore, n: number) {
  const live = new LiveSegmentIndex(store, 60_000);
  const r = rng(7);
  for (let i = 0; i < n; i++) {
    const text = Array.from({ length: 2 + Math.floor(r() * 7) }, () => WORDS[Math.floor(r() * WORDS.length)]).join(' ');
    live.add({ stream: `s_${i % 3}`, text: i === n - 40 ? "Red's number 9 shoots!" : `${text}!`, start: i, end: i + 1 });
  }
  await live.flush();
  const table = (await store.table(LIVE_TABLE))!;
  const stored = (await table.query().select(['stream', 'text', 'start', 'wallMs']).toArray()).map((r: any) => ({ stream: r.stream, text: r.text, start: r.start, wallMs: r.wallMs }));
  expect(stored).toHaveLength(n);
  return { live, stored };
}

describe('live search ranking', () => {
  it('top k equals a brute-force BM25 ranking of every stored line, sorted, for several queries and k', async () => {
    const store = await openStore();
    const { live, stored } = await liveCorpus(store, 600);
    for (const query of QUERIES) {
      for (const k of [1, 5, 50]) {
        const got = await live.search(query, k);
        const want = bruteForce(stored, query, k);
        expect(got.map((h) => `${h.stream}@${h.start}`), `${query} k=${k}`).toEqual(want.map((h) => `${h.stream}@${h.start}`));
        got.forEach((h, i) => expect(h.score).toBeCloseTo(want[i].score, 9));
        for (let i = 1; i < got.length; i++) expect(got[i].score).toBeLessThanOrEqual(got[i - 1].score);
      }
    }
    // The case: the best live match comes first at k=5 (it was left out unless k=50).
    const top = await live.search('number 9 shoots', 5);
    expect(top.map((h) => h.text)).toContain("Red's number 9 shoots!");
    // A new index on the same table (a restarted server, or the CLI) loads the lines and ranks the same.
    const again = new LiveSegmentIndex(await openStore(store.dbPath));
    for (const query of QUERIES) expect(await again.search(query, 10)).toEqual(await live.search(query, 10));
  });

  it('keeps at most maxLines lines in memory, the newest', async () => {
    const store = await openStore();
    const live = new LiveSegmentIndex(store, 60_000, undefined, undefined, 10);
    for (let i = 0; i < 30; i++) live.add({ stream: 's', text: `goal number ${i}`, start: i, end: i + 1 });
    const hits = await live.search('goal', 100);
    expect(hits.map((h) => h.start).sort((a, b) => a - b)).toEqual([20, 21, 22, 23, 24, 25, 26, 27, 28, 29]);
    await live.close();
  });

  it('after thousands of evictions, top k equals a brute-force ranking of the newest maxLines lines', async () => {
    const store = await openStore();
    const maxLines = 150;
    const live = new LiveSegmentIndex(store, 60_000, undefined, undefined, maxLines);
    const r = rng(11);
    const all: { stream: string; text: string; start: number; wallMs: number }[] = [];
    for (let i = 0; i < 3000; i++) {
      // Words repeat within a line, so a term's occurrences (tf > 1) are evicted together.
      const text = Array.from({ length: 1 + Math.floor(r() * 9) }, () => WORDS[Math.floor(r() * 6)]).join(' ');
      live.add({ stream: `s_${i % 4}`, text, start: i, end: i + 1 });
      all.push({ stream: `s_${i % 4}`, text, start: i, wallMs: 0 });
    }
    const newest = all.slice(-maxLines);
    for (const query of QUERIES) {
      const got = await live.search(query, 20);
      // Ties break on wallMs, the time of add(), unknown here: compare the scores in order, then each hit's own score.
      const want = bruteForce(newest, query, maxLines);
      expect(got.length).toBe(Math.min(20, want.length));
      got.forEach((h, i) => expect(h.score, `${query} #${i}`).toBeCloseTo(want[i].score, 9));
      const wantScore = new Map(want.map((h) => [`${h.stream}@${h.start}`, h.score]));
      for (const h of got) expect(wantScore.get(`${h.stream}@${h.start}`), `${query}: ${h.stream}@${h.start}`).toBeCloseTo(h.score, 9);
    }
    await live.close();
  });
});

describe('merged search (clips + live)', () => {
  const DIM = 8;
  const MODEL = 'rank-test';
  const unit = (r: () => number) => {
    const v = Float32Array.from({ length: DIM }, () => r() * 2 - 1);
    const n = Math.hypot(...v);
    return v.map((x) => x / n);
  };

  it('hits are the k best of both kinds by score, equal to a brute-force ranking of all clips and lines', async () => {
    const store = await openStore();
    const r = rng(3);
    const rows: ClipRow[] = Array.from({ length: 200 }, (_, i) => ({ vector: unit(r), video: `/v/${i % 10}.mp4`, hash: 'h', start: Math.floor(i / 10) * 10, end: Math.floor(i / 10) * 10 + 10, thumbnail: new Uint8Array([0xff, 0xd8]), model: MODEL }));
    await store.beginVideo('/v/all', 'h', MODEL, DIM);
    await store.addClips(MODEL, DIM, rows);
    await store.completeVideo({ path: '/v/all', hash: 'h', model: MODEL, sizeBytes: 1, mtimeMs: 1, durationSec: 1, clips: rows.length, indexedAt: '' });
    const { live, stored } = await liveCorpus(store, 300);
    for (const [i, q] of QUERIES.entries()) {
      const vector = unit(rng(100 + i));
      const encoder = { spec: { name: MODEL }, embedText: async () => vector } as unknown as ClipEncoder;
      for (const k of [3, 10, 40]) {
        const found = await runSearch(store, encoder, live, { q, k });
        const clipScores = rows.map((c) => ({ key: `${c.video}@${c.start}`, score: c.vector.reduce((s, x, j) => s + x * vector[j], 0) }));
        const liveScores = bruteForce(stored, q, stored.length).map((l) => ({ key: `${l.stream}@${l.start}`, score: l.score }));
        const want = [...clipScores, ...liveScores].sort((a, b) => b.score - a.score).slice(0, k);
        const got = found.hits.map((h) => ({ key: h.kind === 'clip' ? `${h.video}@${h.start}` : `${h.stream}@${h.start}`, score: h.score }));
        expect(got.map((h) => h.score)).toEqual([...got.map((h) => h.score)].sort((a, b) => b - a));
        // Same scores in the same order (keys may differ only among exact ties).
        got.forEach((h, j) => expect(h.score).toBeCloseTo(want[j].score, 5));
        expect(new Set(got.filter((h) => h.score > (want.at(-1)?.score ?? 0) + 1e-6).map((h) => h.key))).toEqual(new Set(want.filter((h) => h.score > (want.at(-1)?.score ?? 0) + 1e-6).map((h) => h.key)));
      }
    }
  });
});
