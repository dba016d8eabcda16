/**
 * The live segment index over many commits (one a second in a server): LanceDB's caches of the database
 * stay within their bound, where its default let them grow towards 1 GiB (bench/results/soak-quick.md),
 * and the lines stay readable. The commits go through the live table's own connection, whose small cache
 * takes their manifests; the store's cache (the clip tables') does not grow with them.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LIVE_METADATA_CACHE_BYTES, LIVE_TABLE, LiveSegmentIndex } from '../../src/search/live-index.js';
import { SearchStore } from '../../src/search/store.js';

const stores: SearchStore[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
});

describe('live segment index over many commits', () => {
  it("keeps LanceDB's metadata caches within their bounds (each commit used to add ~0.1 MB for good)", async () => {
    const store = await SearchStore.open(join(mkdtempSync(join(tmpdir(), 'sightline-live-')), 'db'));
    stores.push(store);
    const live = new LiveSegmentIndex(store, 60_000);
    const commits = 150;
    for (let c = 0; c < commits; c++) {
      for (const stream of ['a', 'b']) live.add({ stream, start: c, end: c + 1, text: `Red's number ${c % 11} shoots!` });
      await live.flush();
    }
    // Unbounded (LanceDB's default) this is ~10 MB after 150 commits and grows with every one; in the store's
    // 32 MiB cache it grew until that was full.
    expect(live.cacheBytes()).toBeGreaterThan(0);
    expect(live.cacheBytes()).toBeLessThan(2 * LIVE_METADATA_CACHE_BYTES);
    expect(store.cacheBytes()).toBeLessThan(1 << 20);
    const t = (await store.table(LIVE_TABLE))!;
    expect(await t.countRows()).toBe(2 * commits);
    expect(await t.listIndices()).toEqual([]); // ranked in memory: no full-text index to rebuild
    await live.close();
  });
});
