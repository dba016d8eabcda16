/** A step's picture rows as each chunk of it sees them (the batch scheduler runs long steps in chunks). */
import { describe, expect, it } from 'vitest';
import { visualInChunk } from '../../src/model/backend.js';

describe('visualInChunk', () => {
  // A step of 30 rows: 3 text rows, then a picture block of 20 rows (rows 3..22), then 7 text rows.
  const visual = [{ at: 3, rows: 20, offset: 0, blockRows: 20 }];

  it('cuts a picture across chunks: each part where it sits in its chunk and which block rows it holds', () => {
    expect(visualInChunk(visual, 0, 10)).toEqual([{ at: 3, rows: 7, offset: 0, blockRows: 20 }]);
    expect(visualInChunk(visual, 10, 10)).toEqual([{ at: 0, rows: 10, offset: 7, blockRows: 20 }]);
    expect(visualInChunk(visual, 20, 10)).toEqual([{ at: 0, rows: 3, offset: 17, blockRows: 20 }]);
  });

  it('a chunk without picture rows has none; a whole step is itself', () => {
    expect(visualInChunk(visual, 23, 7)).toBeUndefined();
    expect(visualInChunk(undefined, 0, 30)).toBeUndefined();
    expect(visualInChunk(visual, 0, 30)).toEqual(visual);
  });

  it('a block continued from an earlier step keeps counting its rows', () => {
    expect(visualInChunk([{ at: 0, rows: 8, offset: 12, blockRows: 20 }], 5, 5)).toEqual([{ at: 0, rows: 3, offset: 17, blockRows: 20 }]);
  });
});
