
import { createReadStream, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSource, runningFfmpegCount } from '../../src/ingest/index.js';
import { collect } from './collect.js';
import { MEDIA_DIR, bandedMp4, testsrc20Ts, testsrc60Mp4 } from './media.js';

describe('ingest: local files', () => {
  it('samples a 60 s mp4 at 2 fps into exactly 120 frames, pts 0..59.5, 60 one-second chunks', async () => {
    const source = openSource(await testsrc60Mp4());
    const states: string[] = [];
    source.on('state', (s) => states.push(s));
    const { chunks, error } = await collect(source);
    expect(error).toBeUndefined();
    const pts = chunks.flatMap((c) => c.frames.map((f) => f.ptsSec));
    expect(pts).toEqual(Array.from({ length: 120 }, (_, i) => i * 0.5));
    expect(chunks.map((c) => c.startSec)).toEqual(Array.from({ length: 60 }, (_, i) => i));
    for (const c of chunks) {
      expect(c.frames).toHaveLength(2);
      expect(c.dropped).toBe(0);
      for (const f of c.frames) {
        expect(f.ptsSec >= c.startSec && f.ptsSec < c.startSec + 1).toBe(true);
        expect([f.width, f.height, f.rgb.length]).toEqual([224, 224, 224 * 224 * 3]);
      }
    }
    expect(source.stats()).toMatchObject({ state: 'ended', framesDelivered: 120, framesDropped: 0, reconnects: 0 });
    expect(source.stats().inputFps).toBeGreaterThan(0);
    expect(states).toEqual(['live', 'ended']);
    expect(runningFfmpegCount()).toBe(0);
  });

  it('scales to cover and centre-crops: centre band fills the middle, the sides are cropped', async () => {
    const { chunks } = await collect(openSource(await bandedMp4(), { seconds: 1 }));
    const frame = chunks[0].frames[0];
    const px = (x: number, y: number) => Array.from(frame.rgb.subarray((y * 224 + x) * 3, (y * 224 + x) * 3 + 3));
    const isRed = ([r, g, b]: number[]) => r > 200 && g < 60 && b < 60;
    const isGreen = ([r, g, b]: number[]) => g > 200 && r < 60 && b < 60;
    // Cover scale 320x180 -> 398x224, crop x 87..311: original x 70..250, so red survives only at the edges.
    expect(isRed(px(2, 112))).toBe(true);
    expect(isRed(px(221, 112))).toBe(true);
    expect(isGreen(px(112, 112))).toBe(true);
    expect(isGreen(px(112, 0))).toBe(true); // full height kept: no letterbox
    expect(isGreen(px(30, 112))).toBe(true); // band edge is ~12 px in from each side
  });

  it('honours fps, a non-square size and the seconds limit', async () => {
    const { chunks } = await collect(openSource(await testsrc60Mp4(), { fps: 5, width: 64, height: 32, seconds: 3 }));
    const frames = chunks.flatMap((c) => c.frames);
    expect(frames.map((f) => f.ptsSec)).toEqual(Array.from({ length: 15 }, (_, i) => i / 5));
    expect(frames.every((f) => f.rgb.length === 64 * 32 * 3 && f.width === 64 && f.height === 32)).toBe(true);
    expect(chunks.map((c) => c.frames.length)).toEqual([5, 5, 5]);
  });

  it('reads stdin ("-")', async () => {
    const stdin = createReadStream(await testsrc20Ts());
    const { chunks, error } = await collect(openSource('-', { stdin }));
    expect(error).toBeUndefined();
    expect(chunks).toHaveLength(20);
    expect(chunks.flatMap((c) => c.frames)).toHaveLength(40);
  });

  it('skips and counts corrupt frames in the middle of a file', async () => {
    const bytes = Buffer.from(readFileSync(await testsrc20Ts()));
    // Scribble over payload bytes (not TS headers) of ~100 packets at 40% of the file.
    let seed = 7;
    const start = Math.floor((bytes.length * 0.4) / 188) * 188;
    for (let packet = start; packet < start + 188 * 300; packet += 188 * 3) {
      for (let i = 8; i < 180; i++) bytes[packet + i] = (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff;
    }
    const corrupt = join(MEDIA_DIR, 'corrupt-middle.ts');
    writeFileSync(corrupt, bytes);
    const source = openSource(corrupt);
    const { chunks, error } = await collect(source);
    expect(error).toBeUndefined();
    const stats = source.stats();
    expect(stats.corruptFrames).toBeGreaterThan(0);
    expect(stats.framesDropped).toBe(stats.corruptFrames);
    // Reports after the last frame have no later chunk to ride on: chunks carry all but those.
    const inChunks = chunks.reduce((n, c) => n + c.dropped, 0);
    expect(inChunks).toBeGreaterThan(0);
    expect(inChunks).toBeLessThanOrEqual(stats.corruptFrames!);
    expect(chunks.flatMap((c) => c.frames).length).toBeGreaterThanOrEqual(38); // sampling grid kept
  });

  it('close() and an AbortSignal stop a paced file and its ffmpeg', async () => {
    const controller = new AbortController();
    const source = openSource(await testsrc60Mp4(), { realtime: true, signal: controller.signal });
    const seen: number[] = [];
    for await (const chunk of source) {
      seen.push(chunk.startSec);
      controller.abort();
    }
    // Iteration ended right after the abort, 59 s of the paced file unread.
    expect(seen).toEqual([0]);
    await source.close();
    expect(source.stats().state).toBe('ended');
    expect(runningFfmpegCount()).toBe(0);
  });
});


describe('ingest: cancellation edge cases', () => {
  it('an already-aborted signal ends at once without starting ffmpeg', async () => {
    const source = openSource(await testsrc60Mp4(), { signal: AbortSignal.abort() });
    const { chunks, error } = await collect(source);
    expect([chunks, error]).toEqual([[], undefined]);
    expect(source.stats().state).toBe('ended');
  });

  it('breaking out of for-await closes the source', async () => {
    const source = openSource(await testsrc60Mp4(), { backpressure: 'wait' });
    for await (const chunk of source) if (chunk.startSec === 2) break;
    expect(source.stats().state).toBe('ended');
    expect(runningFfmpegCount()).toBe(0);
  });
});
