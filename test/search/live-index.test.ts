/**
 * The live segment index over many commits (one a second in a server): LanceDB's caches of the database
 * stay within their bound, where its default let them grow towards 1 GiB (bench/results/soak-quick.md),
 * and the lines stay readable.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LIVE_TABLE, LiveSegmentIndex } from '../../src/search/live-index.js';
import { SearchStore } from '../../src/search/store.js';

const stores: SearchStore[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
});

describe('live segment index over many commits', () => {
  it("keeps LanceDB's metadata cache within its bound (each commit used to add ~0.1 MB for good)", async () => {
    const bound = 1 << 20;
    const store = await SearchStore.open(join(mkdtempSync(join(tmpdir(), 'sightline-live-')), 'db'), { metadataCacheBytes: bound });
    stores.push(store);
    const live = new LiveSegmentIndex(store, 60_000);
    const commits = 150;
    for (let c = 0; c < commits; c++) {
      for (const stream of ['a', 'b']) live.add({ stream, start: c, end: c + 1, text: `Red's number ${c % 11} shoots!` });
      await live.flush();
    }
    // Unbounded (LanceDB's default) this is ~10 MB after 150 commits and grows with every one.
    expect(store.cacheBytes()).toBeLessThan(2 * bound);
    const t = (await store.table(LIVE_TABLE))!;
    expect(await t.countRows()).toBe(2 * commits);
    expect(await t.listIndices()).toEqual([]); // ranked in memory: no full-text index to rebuild
  });
});
