/**
 * LanceDB vector search at 1e4, 1e5 and 1e6 stored clips: query latency p50/p99 and recall@10 of
 * approximate indexes against exact search, index build time, and the choice in src/search/ann-params.ts.
 *
 *   npx tsx bench/search-ann.ts [--sizes 1e4,1e5,1e6] [--queries 300] [--indexes flat,pq,hnsw] [--json FILE]
 *
 * Data (why not uniform noise: ANN on uniform random vectors has no structure to exploit and says little
 * about real embeddings): 256-d vectors from a two-level Gaussian mixture, L2-normalised. 500 "topic"
 * centres; 20,000 "video" centres around them (cosine ~0.8 to their topic); each stored vector is a video
 * centre plus noise (cosine ~0.85), the noise anisotropic (per-dimension variance ~ 1/sqrt(d+1), more
 * variance in some directions than others, as in learned embeddings). Queries are fresh draws around random video
 * centres with a little more noise (the text/video modality gap). Deterministic from --seed.
 *
 * Rows are appended in batches of 50,000 (memory stays ~ one batch, not the 1 GB of 1e6 x 256 floats); the
 * same batches feed an exact top-10 per query computed here in JS (the ground truth), snapshotted as the
 * table passes each size. LanceDB's own exact search (bypassVectorIndex) is timed in the same process and
 * every approximate row prints its p50 as a ratio to it.
 */
import { rmSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as lancedb from '@lancedb/lancedb';
import { Field, FixedSizeList, Float32, Int32, RecordBatch, Schema, Struct, Table as ArrowTable, makeData } from 'apache-arrow';
import { annParams, type AnnIndexConfig, type AnnParams, type AnnQueryParams } from '../src/search/ann-params.js';
import { applyAnnQuery, lanceIndex } from '../src/search/ann-lancedb.js';
import { tempDir } from './temp-dir.js';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1e4,1e5,1e6' },
    queries: { type: 'string', default: '300' },
    'exact-queries': { type: 'string', default: '30' },
    'exact-queries-big': { type: 'string', default: '10' },
    indexes: { type: 'string', default: 'flat,pq,hnsw' },
    // IVF_PQ and IVF_HNSW_SQ took 75 s and 35-95 s to build at 1e5 rows here (IVF_FLAT 3 s) and did not beat
    // IVF_FLAT's recall per ms; at 1e6 they would take 10+ minutes each, so large sizes try only these.
    'big-indexes': { type: 'string', default: 'flat' },
    'big-from': { type: 'string', default: '5e5' },
    seed: { type: 'string', default: '7' },
    json: { type: 'string' },
  },
});
const DIM = 256;
const K = 10;
const BATCH = 50_000;
const TOPICS = 500;
const VIDEOS = 20_000;
const sizes = values.sizes!.split(',').map(Number).sort((a, b) => a - b);
const numQueries = Number(values.queries);
const numExactQueries = Number(values['exact-queries']);
const allKinds = new Set(values.indexes!.split(','));
const bigKinds = new Set(values['big-indexes']!.split(','));
const bigFrom = Number(values['big-from']);

// ---------- data ----------
/** mulberry32 + Box-Muller: fast, seeded, good enough for synthetic data. */
function rng(seed: number): { uniform(): number; gauss(): number } {
  let a = seed >>> 0;
  const uniform = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  let spare: number | undefined;
  const gauss = (): number => {
    if (spare !== undefined) {
      const s = spare;
      spare = undefined;
      return s;
    }
    const u = uniform() || 1e-12;
    const v = uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
  return { uniform, gauss };
}

// Anisotropic noise: per-dimension scale (d+1)^-1/4 (variance ~ 1/sqrt(d+1): the first 10 of 256 dimensions
// carry ~17% of it), normalised so a noise vector of `norm` has that expected length.
const spectrum = new Float32Array(DIM).map((_, d) => (d + 1) ** -0.25);
{
  const s = Math.sqrt(spectrum.reduce((a, b) => a + b * b, 0));
  for (let d = 0; d < DIM; d++) spectrum[d] /= s;
}

function normalise(v: Float32Array, at = 0): void {
  let s = 0;
  for (let d = 0; d < DIM; d++) s += v[at + d] * v[at + d];
  const inv = 1 / Math.sqrt(s);
  for (let d = 0; d < DIM; d++) v[at + d] *= inv;
}

/** out[at..] = normalise(centre + noise of expected length `norm`). */
function around(out: Float32Array, at: number, centre: Float32Array, cAt: number, norm: number, r: ReturnType<typeof rng>): void {
  for (let d = 0; d < DIM; d++) out[at + d] = centre[cAt + d] + norm * spectrum[d] * r.gauss();
  normalise(out, at);
}

const seed = Number(values.seed);
const gen = rng(seed);
const topics = new Float32Array(TOPICS * DIM).map(() => gen.gauss());
for (let t = 0; t < TOPICS; t++) normalise(topics, t * DIM);
const videos = new Float32Array(VIDEOS * DIM);
for (let v = 0; v < VIDEOS; v++) around(videos, v * DIM, topics, Math.floor(gen.uniform() * TOPICS) * DIM, 0.75, gen);

function makeBatch(first: number, n: number): Float32Array {
  const r = rng(seed * 1_000_003 + first);
  const out = new Float32Array(n * DIM);
  for (let i = 0; i < n; i++) around(out, i * DIM, videos, Math.floor(r.uniform() * VIDEOS) * DIM, 0.6, r);
  return out;
}

const queries: Float32Array[] = [];
{
  const r = rng(seed + 99);
  for (let q = 0; q < numQueries; q++) {
    const v = new Float32Array(DIM);
    around(v, 0, videos, Math.floor(r.uniform() * VIDEOS) * DIM, 0.8, r);
    queries.push(v);
  }
}

// ---------- exact top-10 in JS (the ground truth) ----------
interface TopK {
  ids: Int32Array;
  scores: Float32Array;
}
const truth: TopK[] = queries.map(() => ({ ids: new Int32Array(K).fill(-1), scores: new Float32Array(K).fill(-Infinity) }));

function scanBatch(batch: Float32Array, first: number): void {
  const n = batch.length / DIM;
  for (let qi = 0; qi < queries.length; qi++) {
    const q = queries[qi];
    const t = truth[qi];
    let worst = t.scores[K - 1];
    for (let i = 0; i < n; i++) {
      const o = i * DIM;
      let s = 0;
      for (let d = 0; d < DIM; d += 4) s += q[d] * batch[o + d] + q[d + 1] * batch[o + d + 1] + q[d + 2] * batch[o + d + 2] + q[d + 3] * batch[o + d + 3];
      if (s <= worst) continue;
      let j = K - 1;
      while (j > 0 && t.scores[j - 1] < s) {
        t.scores[j] = t.scores[j - 1];
        t.ids[j] = t.ids[j - 1];
        j--;
      }
      t.scores[j] = s;
      t.ids[j] = first + i;
      worst = t.scores[K - 1];
    }
  }
}

// ---------- LanceDB ----------
const listType = new FixedSizeList(DIM, new Field('item', new Float32(), true));
const schema = new Schema([new Field('id', new Int32(), false), new Field('vector', listType, false)]);

function arrowBatch(first: number, vectors: Float32Array): ArrowTable {
  const n = vectors.length / DIM;
  const ids = Int32Array.from({ length: n }, (_, i) => first + i);
  const child = makeData({ type: new Float32(), length: vectors.length, data: vectors });
  const vec = makeData({ type: listType, length: n, nullCount: 0, child });
  const id = makeData({ type: new Int32(), length: n, data: ids });
  const struct = makeData({ type: new Struct(schema.fields), length: n, nullCount: 0, children: [id, vec] });
  return new ArrowTable([new RecordBatch(schema, struct)]);
}

const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];
const round = (x: number, d = 2): number => Math.round(x * 10 ** d) / 10 ** d;

async function search(table: lancedb.Table, q: Float32Array, p: AnnParams): Promise<Int32Array> {
  const rows = (await applyAnnQuery(table.vectorSearch(q).limit(K).select(['id', '_distance']), p).toArray()) as Array<{ id: number }>;
  return Int32Array.from(rows.map((r) => r.id));
}

async function measure(table: lancedb.Table, p: AnnParams, n: number): Promise<{ p50: number; p99: number; recall: number }> {
  const qs = queries.slice(0, n);
  for (const q of qs.slice(0, 5)) await search(table, q, p); // warm-up: open index files, fill caches
  const ms: number[] = [];
  let hits = 0;
  for (let qi = 0; qi < qs.length; qi++) {
    const t0 = process.hrtime.bigint();
    const got = await search(table, qs[qi], p);
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
    const want = new Set(truth[qi].ids);
    for (const id of got) if (want.has(id)) hits++;
  }
  return { p50: pct(ms, 0.5), p99: pct(ms, 0.99), recall: hits / (K * qs.length) };
}

interface Candidate {
  index: AnnIndexConfig;
  queries: AnnQueryParams[];
}

/** Index types and query settings tried at `rows` (the sweep that chose ann-params.ts). */
function candidates(rows: number): Candidate[] {
  const parts = Math.max(64, Math.round(Math.sqrt(rows)));
  const out: Candidate[] = [];
  const kinds = rows >= bigFrom ? bigKinds : allKinds;
  if (kinds.has('flat')) out.push({ index: { type: 'IVF_FLAT', numPartitions: parts }, queries: [5, 10, 20, 40, 80].map((nprobes) => ({ nprobes })) });
  if (kinds.has('pq')) {
    out.push({
      index: { type: 'IVF_PQ', numPartitions: parts, numSubVectors: 32, numBits: 8 },
      queries: [10, 20, 40].flatMap((nprobes) => [5, 20].map((refineFactor) => ({ nprobes, refineFactor }))),
    });
  }
  if (kinds.has('hnsw')) {
    const hp = Math.max(1, Math.round(rows / 100_000));
    out.push({
      index: { type: 'IVF_HNSW_SQ', numPartitions: hp, m: 16, efConstruction: 150 },
      queries: [40, 80, 160].map((ef) => ({ nprobes: Math.max(1, Math.ceil(hp / 2)), ef })),
    });
  }
  return out;
}

interface Row {
  rows: number;
  index: string;
  query: string;
  buildS: number | null;
  p50Ms: number;
  p99Ms: number;
  recallAt10: number;
  p50VsExact: number;
  chosen: boolean;
}

function describeIndex(c: AnnIndexConfig | null): string {
  if (!c) return 'none (exact)';
  const { type, ...rest } = c;
  return `${type} ${Object.entries(rest).map(([k, v]) => `${k}=${v}`).join(' ')}`;
}

const sameChoice = (a: AnnParams, c: AnnIndexConfig, q: AnnQueryParams): boolean =>
  JSON.stringify(a.index) === JSON.stringify(c) && JSON.stringify(a.query) === JSON.stringify(q);

async function main(): Promise<void> {
  const dir = tempDir();
  const db = await lancedb.connect(dir);
  const rows: Row[] = [];
  const log = (s: string): void => void process.stderr.write(`${s}\n`);
  log(`search-ann: ${cpus().length} x ${cpus()[0]?.model}, ${round(totalmem() / 2 ** 30, 1)} GiB, node ${process.version}, lancedb ${lancedb.Index ? '0.37' : '?'}; data in ${dir}`);
  let table: lancedb.Table | undefined;
  let stored = 0;
  let scanMs = 0;
  let addMs = 0;
  try {
    for (const size of sizes) {
      while (stored < size) {
        const n = Math.min(BATCH, size - stored);
        const batch = makeBatch(stored, n);
        let t0 = performance.now();
        scanBatch(batch, stored);
        scanMs += performance.now() - t0;
        t0 = performance.now();
        const data = arrowBatch(stored, batch);
        if (!table) table = await db.createTable('clips', data);
        else await table.add(data);
        addMs += performance.now() - t0;
        stored += n;
      }
      const t = table!;
      log(`\n${size} rows stored (JS brute force so far ${round(scanMs / 1000, 1)} s, LanceDB writes ${round(addMs / 1000, 1)} s)`);
      await t.dropIndex('vector_idx').catch(() => undefined);

      // Exact search in LanceDB: the baseline every ratio is against (and a check of the JS ground truth).
      const exactParams: AnnParams = { ...annParams(0, DIM) };
      // A flat scan of 1e6 rows takes seconds a query here: fewer timed queries at large sizes.
      const exact = await measure(t, exactParams, Math.min(size >= bigFrom ? Number(values['exact-queries-big']) : numExactQueries, queries.length));
      // The JS brute force that made the ground truth is a second exact baseline (one thread, in memory).
      const jsScanMs = scanMs / queries.length;
      log(`exact: p50 ${round(exact.p50)} ms, p99 ${round(exact.p99)} ms, recall vs JS truth ${round(exact.recall, 4)}; JS flat scan ${round(jsScanMs, 1)} ms a query (all rows so far)`);
      const chosen = annParams(size, DIM);
      rows.push({ rows: size, index: 'none (exact)', query: 'bypassVectorIndex', buildS: null, p50Ms: round(exact.p50), p99Ms: round(exact.p99), recallAt10: round(exact.recall, 4), p50VsExact: 1, chosen: chosen.index === null });

      const tried = candidates(size);
      if (chosen.index && !tried.some((c) => JSON.stringify(c.index) === JSON.stringify(chosen.index))) tried.push({ index: chosen.index, queries: [] });
      for (const c of tried) {
        if (chosen.index && JSON.stringify(c.index) === JSON.stringify(chosen.index) && !c.queries.some((q) => JSON.stringify(q) === JSON.stringify(chosen.query))) c.queries.push(chosen.query);
        const t0 = performance.now();
        await t.createIndex('vector', { config: lanceIndex(c.index, 'l2'), replace: true });
        const buildS = (performance.now() - t0) / 1000;
        log(`${describeIndex(c.index)}: built in ${round(buildS, 1)} s`);
        for (const q of c.queries) {
          const p: AnnParams = { distanceType: 'l2', exactBelowRows: 0, index: c.index, query: q };
          const m = await measure(t, p, queries.length);
          const row: Row = {
            rows: size,
            index: describeIndex(c.index),
            query: Object.entries(q).map(([k, v]) => `${k}=${v}`).join(' '),
            buildS: round(buildS, 1),
            p50Ms: round(m.p50),
            p99Ms: round(m.p99),
            recallAt10: round(m.recall, 4),
            p50VsExact: round(m.p50 / exact.p50, 4),
            chosen: sameChoice(chosen, c.index, q),
          };
          rows.push(row);
          log(`  ${row.query}: p50 ${row.p50Ms} ms (${row.p50VsExact}x exact, ${round(m.p50 / jsScanMs, 4)}x JS scan), p99 ${row.p99Ms} ms, recall@10 ${row.recallAt10}${row.chosen ? '  <- ann-params.ts' : ''}`);
        }
        await t.dropIndex('vector_idx').catch(() => undefined);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.table(rows);
  for (const size of sizes) {
    const c = rows.find((r) => r.rows === size && r.chosen);
    if (c) console.log(`${size} rows, ann-params.ts choice ${c.index} ${c.query}: p50 ${c.p50Ms} ms (${c.p50VsExact}x exact), p99 ${c.p99Ms} ms, recall@10 ${c.recallAt10}${size >= 1e6 ? `  goal p50 <= 10 ms and recall >= 0.95: ${c.p50Ms <= 10 && c.recallAt10 >= 0.95 ? 'met' : 'NOT met'}` : ''}`);
  }
  if (values.json) writeFileSync(values.json, JSON.stringify({ machine: `${cpus().length} x ${cpus()[0]?.model}`, rows }, null, 1));
}

await main();
