/**
 * Search memory probe: where a serving process's native memory goes when it indexes and searches. Runs the
 * server's SearchService in this process (its index jobs in child processes, as the server's: index-job.ts) and
 * prints RSS, JS heap and external memory after each phase (start, each indexed video, every 50 searches, live
 * segments, idle), so a phase that grows RSS while the heap stays flat points at native memory (onnxruntime,
 * LanceDB, the allocator).
 *
 *   npx tsx bench/search-memory.ts --videos a.mp4,b.mp4 [--searches 200] [--live 2000] [--idle 20]
 *                                  [--steady commits|searches|both] [--rounds 3600]
 *
 * `--steady` then runs the soak's search load compressed in time, to name the part of its RSS slope that search
 * holds: `commits` makes `--rounds` live-table commits of 8 lines each (the soak's 8 streams, one commit a second:
 * 3,600 is an hour of them, with its compactions every 300), `searches` makes `--rounds` / 3 searches (the soak's
 * one every 3 s), `both` interleaves them. RSS is sampled every 300 rounds; the slope is printed per 3,600 rounds
 * (one soak hour) from the 1,200th round on, after the first compactions.
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
import { rssTrend, type RssSample } from './soak-stats.js';

const { values } = parseArgs({
  options: {
    videos: { type: 'string' },
    searches: { type: 'string', default: '200' },
    live: { type: 'string', default: '2000' },
    idle: { type: 'string', default: '20' },
    steady: { type: 'string' },
    rounds: { type: 'string', default: '3600' },
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
if (values.steady) await steady(values.steady, Number(values.rounds));
await service.close();
console.table(rows);
process.exit(0);

/** The soak's search load without its clock: see the file comment. */
async function steady(mode: string, rounds: number): Promise<void> {
  if (!['commits', 'searches', 'both'].includes(mode)) throw new Error(`--steady: expected commits, searches or both, got "${mode}"`);
  // A round is one second of the soak's load, so the soak's own trend gives the slope per soak hour.
  const points: RssSample[] = [];
  const lines = ['plays it forward', 'shoots!', 'wins a corner', 'the keeper saves', 'a throw-in', 'goal kick'];
  for (let round = 1; round <= rounds; round++) {
    if (mode !== 'searches') {
      for (let s = 0; s < 8; s++) service.addLiveSegment({ stream: `s${s}`, start: round, end: round + 1, text: `Red's number ${(round + s) % 11} ${lines[(round * 8 + s) % lines.length]} ${round}` });
      await service.live.flush();
    }
    if (mode !== 'commits' && round % 3 === 0) await service.search({ q: `${QUERIES[round % QUERIES.length]} ${round % 7}`, k: 10 });
    if (round % 300 === 0) {
      sample(`steady ${mode}: ${round} rounds`);
      points.push({ tSec: round, rssBytes: process.memoryUsage().rss });
    }
  }
  const trend = rssTrend(points, 1200);
  console.log(`steady ${mode}: RSS slope ${trend.slopeMBPerHour.toFixed(1)} MB per 3,600 rounds (one soak hour) from round 1,200, on ${trend.meanMB.toFixed(0)} MB`);
}
