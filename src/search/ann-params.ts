/**
 * Which LanceDB vector index a clip table gets, and how it is queried: one choice shared by the search
 * core and bench/search-ann.ts, which measured it (bench/results/search-ann.md: 256-d L2-normalised
 * clustered vectors, 1e4-1e6 rows, 2 CPU cores).
 *
 *   const p = annParams(await table.countRows(), 256);
 *   if (p.index) await table.createIndex('vector', { config: lanceIndex(p.index, p.distanceType) });  // ann-lancedb.ts
 *   const q = applyAnnQuery(table.vectorSearch(v).limit(k), p);   // exact (bypassVectorIndex) when p.index is null
 *
 * Plain data, no LanceDB import here, so the choice can be read (and tested) without the native module.
 */

/** Vectors are L2-normalised, so L2 order equals cosine order; L2 is LanceDB's native index metric. */
export type AnnDistance = 'l2';

export type AnnIndexConfig =
  | { type: 'IVF_FLAT'; numPartitions: number }
  | { type: 'IVF_PQ'; numPartitions: number; numSubVectors: number; numBits: 8 }
  | { type: 'IVF_HNSW_SQ'; numPartitions: number; m: number; efConstruction: number };

export interface AnnQueryParams {
  /** IVF partitions probed per query. */
  nprobes: number;
  /** IVF_PQ: re-rank limit x refineFactor candidates on full vectors (undefined: no refine step). */
  refineFactor?: number;
  /** IVF_HNSW_SQ: candidate list size during search. */
  ef?: number;
}

export interface AnnParams {
  distanceType: AnnDistance;
  /** Below this many rows no index is built: exact (flat) search is fast enough and exact. */
  exactBelowRows: number;
  /** Index to build, or null when `rows < exactBelowRows` (query with bypassVectorIndex()). */
  index: AnnIndexConfig | null;
  query: AnnQueryParams;
}

/**
 * Exact search below 10,000 rows: LanceDB's flat scan took 8 ms p50 at 1e4 rows here, but 21 ms at 2e4 and
 * 330 ms at 1e5 (bench/results/search-ann.md); below 1e4 an index saves little and answers approximately.
 */
export const EXACT_BELOW_ROWS = 10_000;

/**
 * Index and query parameters for a table of `rows` vectors of `dim` floats. `exactBelowRows` is there so
 * tests can reach the indexed path with a few hundred rows; everything else uses the default.
 */
export function annParams(rows: number, dim: number, exactBelowRows = EXACT_BELOW_ROWS): AnnParams {
  if (!Number.isInteger(rows) || rows < 0) throw new RangeError(`rows must be a whole number >= 0, got ${rows}`);
  if (!Number.isInteger(dim) || dim <= 0) throw new RangeError(`dim must be a whole number > 0, got ${dim}`);
  if (rows < exactBelowRows) return { distanceType: 'l2', exactBelowRows, index: null, query: { nprobes: 1 } };
  // IVF_FLAT: exact distances inside the probed partitions, so recall depends only on probing, and it
  // builds in 45 s at 1e6 rows (IVF_PQ took 7 min at 1e5, IVF_HNSW_SQ 3 min, neither with better recall
  // per ms). About sqrt(rows) partitions keeps both the centroid scan and the partition scans short.
  const numPartitions = Math.max(64, Math.round(Math.sqrt(rows)));
  return { distanceType: 'l2', exactBelowRows, index: { type: 'IVF_FLAT', numPartitions }, query: { nprobes: ivfNprobes(numPartitions) } };
}

/**
 * Partitions probed in an IVF index of `numPartitions`: 8% of them, at least 20 and at most 40: recall@10
 * 0.965 at 1e5 (26 of 316), 0.9997 at 1e6 (40 of 1000, p50 8 ms); more probes cost ~1 ms per 20 at 1e6
 * and buy nothing measurable there. Exported so a table queried with an index built at an earlier size
 * probes by the partitions that index really has.
 */
export function ivfNprobes(numPartitions: number): number {
  return Math.min(numPartitions, Math.max(20, Math.min(40, Math.ceil(numPartitions * 0.08))));
}
