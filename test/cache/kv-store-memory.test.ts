/** A host K/V store takes its planned bytes when it is made, not row by row as its context grows (src/cache/kv-store.ts). */
import { expect, it } from 'vitest';
import { HostKvOps } from '../../src/cache/index.js';

it('makes its whole capacity resident at once', () => {
  // 100,000 rows x 2 heads x 32 floats, keys and values: 51 MB. Fresh arrays this large are mappings whose pages
  // count towards RSS only once written, so without the zeros written at once the store would take ~0 here.
  const capacity = 100_000;
  const before = process.memoryUsage().rss;
  const ops = new HostKvOps({ numLayers: 1, numKvHeads: 2, headDim: 32 }, capacity);
  const grown = process.memoryUsage().rss - before;
  expect(ops.keys[0].length).toBe(capacity * 64);
  expect(grown).toBeGreaterThan(0.8 * 2 * capacity * 64 * 4);
});
