/**
 * Heap bytes a spoken line costs the live search index (src/search/live-index.ts), the main-thread growth a soak
 * sees under live streams (bench/results/soak-quick.md, runs 7 and 8). Lines go through `LiveSegmentIndex.add` as
 * the server's do (8 streams' ids, a broadcast line with its second in it, so no two texts are equal); nothing is
 * written to disk (no buffering). Needs `--expose-gc`:
 *
 *   node --expose-gc --import tsx bench/live-index-memory.ts [--lines 50000]
 *
 * It uses only the index's constructor and add(), so a copy runs at earlier commits too (182cf6d: the layout before).
 */
import { parseArgs } from 'node:util';
import { LiveSegmentIndex } from '../src/search/live-index.js';
import type { SearchStore } from '../src/search/store.js';

const { values } = parseArgs({ options: { lines: { type: 'string', default: '50000' } } });
const lines = Number(values.lines);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('bench/live-index-memory.ts: run node with --expose-gc (it measures the heap after collection)');

const TEXTS = [
  "Red's number 9 shoots!",
  'Corner to Blue.',
  "Yellow's keeper gathers it.",
  "A long ball forward from Red's number 4, looking for 11",
  'Goal! Red lead 2-1',
];
const streams = Array.from({ length: 8 }, (_, i) => `stream-${i}`);
// Made before the first reading, as the server's segments exist before they are indexed.
const segments = Array.from({ length: lines }, (_, i) => ({ stream: streams[i % 8], text: `${TEXTS[i % TEXTS.length]} (${i} s)`, start: i, end: i + 1 }));

gc();
const before = process.memoryUsage().heapUsed;
// No store is opened: with no room to buffer (maxBuffered 0) add() never writes.
const index = new LiveSegmentIndex(undefined as unknown as SearchStore, 60_000, 0, () => {}, lines);
for (const s of segments) index.add(s);
gc();
const after = process.memoryUsage().heapUsed;
console.log(JSON.stringify({ lines, heapBytesPerLine: Math.round((after - before) / lines), dropped: index.dropped }));
