/**
 * Upkeep of a clip table's approximate index, after rows were added, in line with ann-params.ts. The
 * index's name records its type and partition count (LanceDB does not report them), so queries probe
 * by the partitions the index really has and the store knows when the table has outgrown it:
 * `vector_ivf_flat_p316`.
 */
import { annParams, type AnnIndexConfig } from './ann-params.js';
import { lanceIndex } from './ann-lancedb.js';
import { clipsTableName, vectorDim, type StoreTables } from './store-tables.js';

/** What `maintainAnnIndex` did: nothing to index, a new index, new rows merged into the index, or nothing to do. */
export type AnnIndexAction = 'none' | 'built' | 'refreshed' | 'current';

/** An approximate index of a clip table as built here. */
export interface BuiltIndex {
  name: string;
  config: AnnIndexConfig;
}

const annIndexName = (c: AnnIndexConfig): string => `vector_${c.type.toLowerCase()}_p${c.numPartitions}`;

/** Only IVF_FLAT (ann-params' choice) is fully described by type + partitions; another type would need its knobs in the name. */
export function parseAnnIndexName(name: string): BuiltIndex | undefined {
  const m = /^vector_ivf_flat_p(\d+)$/.exec(name);
  return m ? { name, config: { type: 'IVF_FLAT', numPartitions: Number(m[1]) } } : undefined;
}

/**
 * Below `exactBelowRows` nothing (search is exact); no index of ours yet, or one of another type, or
 * the table has grown so that annParams asks for at least twice the partitions: (re)build it, then
 * drop any other vector index (the old one stays usable until the new one is committed). Otherwise
 * rows added since the build are merged into the existing partitions (`optimize`, no retraining), so
 * queries never brute-force a growing tail: LanceDB's flat scan is 21 ms at 2e4 rows, 0.3-2 s at 1e5.
 */
export async function maintainAnnIndex(s: StoreTables, model: string, exactBelowRows: number): Promise<AnnIndexAction> {
  const t = await s.table(clipsTableName(model));
  if (!t) return 'none';
  const want = annParams(await t.countRows(), await vectorDim(t), exactBelowRows);
  const vectorIndexes = (await t.listIndices()).filter((i) => i.columns.includes('vector'));
  const built = vectorIndexes.map((i) => parseAnnIndexName(i.name)).find((b) => b !== undefined);
  if (!want.index) return built ? 'current' : 'none';
  if (!built || built.config.type !== want.index.type || want.index.numPartitions >= 2 * built.config.numPartitions) {
    const name = annIndexName(want.index);
    await t.createIndex('vector', { config: lanceIndex(want.index, want.distanceType), name, replace: true });
    for (const i of vectorIndexes) if (i.name !== name) await t.dropIndex(i.name);
    s.forgetFacts();
    return 'built';
  }
  const stats = await t.indexStats(built.name);
  if (!stats || stats.numUnindexedRows === 0) return 'current';
  await t.optimize();
  s.forgetFacts();
  return 'refreshed';
}
