/**
 * Search memory probe: where a serving process's native memory goes when it indexes and searches. Runs the
 * server's SearchService in this process and prints RSS, JS heap and external memory after each phase
 * (start, each indexed video, every 50 searches, live segments, idle), so a phase that grows RSS while the
 * heap stays flat points at native memory (onnxruntime, LanceDB, sharp, the allocator).
 *
 *   npx tsx bench/search-memory.ts --videos a.mp4,b.mp4 [--searches 200] [--live 2000] [--idle 20]
 *
 * Compare settings by running it twice, e.g. with `SIGHTLINE_ENCODER_ARENA=1` (onnxruntime's CPU arena back on for the encoders) or
 * `MALLOC_ARENA_MAX=2` (glibc).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SHIPPED_RETRIEVAL_DIR } from '../src/model/index.js';
import { SearchService } from '../src/search/index.js';
import { tempDir } from './temp-dir.js';

const { values } = parseArgs({
  options: {
    videos: { type: 'string' },
    searches: { type: 'string', default: '200' },
    live: { type: 'string', default: '2000' },
    idle: { type: 'string', default: '20' },
  },
});
if (!values.videos) {
  console.error('search-memory: --videos a.mp4,b.mp4 is required (videos to index)');
  process.exit(2);
}

const QUERIES = ['number 9 shoots', 'the keeper saves', 'corner kick for red', 'a goal for yellow', 'free kick near the box', 'throw in', 'the ball goes out', 'a long pass forward'];
const MB = (n: number): string => `${(n / 2 ** 20).toFixed(0)} MB`;
const rows: Record<string, string>[] = [];
function sample(phase: string): void {
  global.gc?.();
  const m = process.memoryUsage();
  // VmHWM: the peak RSS so far (kernel's view), beside the current one.
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  const row = { phase, rss: MB(m.rss), peakRss: hwm ? MB(Number(hwm) * 1024) : '?', heap: MB(m.heapUsed), external: MB(m.external + m.arrayBuffers) };
  rows.push(row);
  console.log(JSON.stringify(row));
}

const service = await SearchService.create({ dbPath: join(tempDir(), 'search'), modelDir: SHIPPED_RETRIEVAL_DIR });
sample('start');
for (const video of values.videos.split(',')) {
  const report = await service.indexFile(video);
  sample(`indexed ${video.split('/').pop()} (${JSON.stringify(report).slice(0, 60)})`);
}
const searches = Number(values.searches);
for (let i = 1; i <= searches; i++) {
  await service.search({ q: `${QUERIES[i % QUERIES.length]} ${i % 7}`, k: 10 });
  if (i % 50 === 0) sample(`${i} searches`);
}
const live = Number(values.live);
for (let i = 0; i < live; i++) service.addLiveSegment({ stream: `s${i % 8}`, start: i, end: i + 1, text: `Red's number ${i % 11} plays it forward` });
await new Promise((r) => setTimeout(r, 2000));
sample(`${live} live segments`);
for (let i = 1; i <= 50; i++) await service.search({ q: QUERIES[i % QUERIES.length], k: 10 });
sample('50 more searches');
await new Promise((r) => setTimeout(r, Number(values.idle) * 1000));
sample(`idle ${values.idle} s`);
await service.close();
console.table(rows);
process.exit(0);
