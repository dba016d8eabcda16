/** The ANN choice of ann-params.ts in LanceDB's terms: the index to create and the query knobs to set. */
import { Index, type VectorQuery } from '@lancedb/lancedb';
import type { AnnIndexConfig, AnnParams } from './ann-params.js';

/** `table.createIndex('vector', { config: lanceIndex(p.index, p.distanceType) })`. */
export function lanceIndex(config: AnnIndexConfig, distanceType: AnnParams['distanceType']): Index {
  switch (config.type) {
    case 'IVF_FLAT':
      return Index.ivfFlat({ distanceType, numPartitions: config.numPartitions });
    case 'IVF_PQ':
      return Index.ivfPq({ distanceType, numPartitions: config.numPartitions, numSubVectors: config.numSubVectors, numBits: config.numBits });
    case 'IVF_HNSW_SQ':
      return Index.hnswSq({ distanceType, numPartitions: config.numPartitions, m: config.m, efConstruction: config.efConstruction });
  }
}

/** Sets distance and the index's query knobs; with no index (small tables) the search is exact. */
export function applyAnnQuery(query: VectorQuery, p: AnnParams): VectorQuery {
  let q = query.distanceType(p.distanceType);
  if (!p.index) return q.bypassVectorIndex();
  q = q.nprobes(p.query.nprobes);
  if (p.query.refineFactor !== undefined) q = q.refineFactor(p.query.refineFactor);
  if (p.query.ef !== undefined) q = q.ef(p.query.ef);
  return q;
}
