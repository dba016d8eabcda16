/** streamLive's pacing on a simulated clock: which frame leaves when, with no dependence on machine speed. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ffmpegPath } from '../../src/ingest/ffmpeg-binary.js';
import { streamLive, type PaceClock } from '../../src/synth/index.js';

const dir = mkdtempSync(join(tmpdir(), 'sightline-synth-live-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A clock that moves only when slept on (`tickPerReadMs`: time that also passes at each reading). */
function simulatedClock(tickPerReadMs = 0): PaceClock & { now: number; sleeps: number[] } {
  const clock = {
    now: 0,
    sleeps: [] as number[],
    nowMs: () => (clock.now += tickPerReadMs),
    sleep: async (ms: number) => {
      clock.sleeps.push(ms);
      clock.now += ms;
    },
  };
  return clock;
}

/** Decoded video frames in a file: one framemd5 line each (the static ffprobe crashes on MPEG-TS). */
function countFrames(file: string): number {
  const out = execFileSync(ffmpegPath(), ['-hide_banner', '-v', 'error', '-i', file, '-map', '0:v:0', '-f', 'framemd5', '-'], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l && !l.startsWith('#')).length;
}

describe('streamLive pacing', () => {
  it('sends frame i at i / fps seconds of its clock and stops at --seconds', async () => {
    const clock = simulatedClock();
    const doneAtMs: number[] = [];
    const out = join(dir, 'paced.ts');
    const result = await streamLive({ seed: 3, url: out, seconds: 3, widthPx: 160, heightPx: 90, fps: 25, clock, onProgress: () => doneAtMs.push(clock.now) });
    expect(result).toEqual({ frames: 75, seconds: 3, aborted: false });
    // Second s is complete once its last frame (25 s - 1) has left, at s x 1000 - 40 ms: never earlier.
    expect(doneAtMs).toEqual([960, 1960, 2960]);
    // It waited for every frame but the first, one frame interval each.
    expect(clock.sleeps).toEqual(Array(74).fill(40));
    expect(countFrames(out)).toBe(75);
  });

  it('behind real time (each frame costs more than its interval) it sends at once, never waiting', async () => {
    const clock = simulatedClock(100);
    const result = await streamLive({ seed: 3, url: join(dir, 'behind.ts'), seconds: 1, widthPx: 160, heightPx: 90, fps: 25, clock });
    expect(result).toEqual({ frames: 25, seconds: 1, aborted: false });
    expect(clock.sleeps).toEqual([]);
  });
});
