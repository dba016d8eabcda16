import { describe, expect, it } from 'vitest';
import { annParams, EXACT_BELOW_ROWS } from '../../src/search/ann-params.js';

describe('annParams', () => {
  it('uses exact search (no index) below the threshold and an index from it on', () => {
    expect(annParams(0, 256).index).toBeNull();
    expect(annParams(EXACT_BELOW_ROWS - 1, 256).index).toBeNull();
    expect(annParams(EXACT_BELOW_ROWS, 256).index).not.toBeNull();
    expect(annParams(1_000_000, 256).exactBelowRows).toBe(EXACT_BELOW_ROWS);
  });

  it('probes no more partitions than the index has, and grows partitions with the table', () => {
    for (const rows of [EXACT_BELOW_ROWS, 100_000, 1_000_000, 10_000_000]) {
      const p = annParams(rows, 256);
      expect(p.index!.numPartitions).toBeGreaterThan(0);
      expect(p.query.nprobes).toBeLessThanOrEqual(p.index!.numPartitions);
    }
    expect(annParams(1_000_000, 256).index!.numPartitions).toBeGreaterThan(annParams(100_000, 256).index!.numPartitions);
  });

  it('rejects impossible sizes', () => {
    expect(() => annParams(-1, 256)).toThrow(/rows/);
    expect(() => annParams(10, 0)).toThrow(/dim/);
  });
});
