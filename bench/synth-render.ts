/**
 * Synth render benchmark (not a test): renders N seconds of a match at 640x360 / 25 fps into one
 * reused frame buffer, with truth generated as in a real render, and prints frames per second, the
 * ratio to real time, and RSS sampled over the run (flat RSS = constant memory on long matches).
 *
 *   npx tsx bench/synth-render.ts [--seconds 300] [--width 640] [--height 360] [--fps 25] [--seed 1]
 *   npx tsx bench/synth-render.ts --seconds 7200      # the 2-hour constant-memory check
 */
import { parseArgs } from 'node:util';
import { MatchTimeline, SyntheticBroadcast, WORLD_HZ } from '../src/synth/index.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '300' },
    width: { type: 'string', default: '640' },
    height: { type: 'string', default: '360' },
    fps: { type: 'string', default: '25' },
    seed: { type: 'string', default: '1' },
  },
});
const seconds = Number(values.seconds);
const widthPx = Number(values.width);
const heightPx = Number(values.height);
const fps = Number(values.fps);
const seed = Number(values.seed);

const mb = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);

let rows = 0;
const broadcast = new SyntheticBroadcast(seed, { widthPx, heightPx, fps }, { onSecond: () => rows++ });
const frame = new Uint8Array(broadcast.frameBytes);
const totalFrames = Math.round(seconds * fps);
const sampleEvery = Math.max(1, Math.round(totalFrames / 12));
console.log(`synth render: ${seconds} s of video at ${widthPx}x${heightPx} ${fps} fps (seed ${seed}), node ${process.version}`);
console.log('video_s  frames  fps_window  rss_MB  heap_MB');
let t0 = performance.now();
let windowStart = t0;
let windowFrames = 0;
const rss: number[] = [];
for (let i = 0; i < totalFrames; i++) {
  broadcast.renderFrame(i, frame);
  windowFrames++;
  if ((i + 1) % sampleEvery === 0 || i + 1 === totalFrames) {
    const now = performance.now();
    const m = process.memoryUsage();
    rss.push(m.rss);
    const line = [((i + 1) / fps).toFixed(0).padStart(7), String(i + 1).padStart(7), (windowFrames / ((now - windowStart) / 1000)).toFixed(0).padStart(11), mb(m.rss).padStart(7), mb(m.heapUsed).padStart(8)];
    console.log(line.join('  '));
    windowStart = now;
    windowFrames = 0;
  }
}
broadcast.finish(seconds);
const elapsedSec = (performance.now() - t0) / 1000;
const renderFps = totalFrames / elapsedSec;
// Baseline: the world and truth alone, no pixels.
t0 = performance.now();
const simSeconds = 600;
new MatchTimeline(seed, {}, {}).finish(simSeconds);
const simRate = simSeconds / ((performance.now() - t0) / 1000);

const settled = rss.slice(Math.floor(rss.length / 4));
console.log('');
console.log(`render: ${renderFps.toFixed(0)} frames/s = ${(renderFps / fps).toFixed(1)}x real time at ${fps} fps (${rows} transcript rows)`);
console.log(`world + truth only (baseline, no pixels): ${simRate.toFixed(0)} s of match per s = ${((simRate * WORLD_HZ) / 1000).toFixed(0)}k ticks/s`);
console.log(`simulation + truth share of render time: ${((100 * (1 / simRate)) / (fps / renderFps)).toFixed(1)}%`);
console.log(`RSS after the first quarter: min ${mb(Math.min(...settled))} MB, max ${mb(Math.max(...settled))} MB (growth ${mb(Math.max(...settled) - Math.min(...settled))} MB)`);
