import { describe, expect, it } from 'vitest';
import { openSource } from '../../src/ingest/index.js';
import { testsrc60Mp4 } from './media.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('ingest: backpressure', () => {
  it("'drop': a slow consumer loses the oldest frames, counted, and the queue never passes its bound", async () => {
    const source = openSource(await testsrc60Mp4(), { backpressure: 'drop', maxQueuedFrames: 4, width: 32, height: 32 });
    let delivered = 0;
    let droppedInChunks = 0;
    let maxQueued = 0;
    let lastPts = -1;
    for await (const chunk of source) {
      delivered += chunk.frames.length;
      droppedInChunks += chunk.dropped;
      for (const f of chunk.frames) {
        expect(f.ptsSec).toBeGreaterThan(lastPts); // newest kept, order kept
        lastPts = f.ptsSec;
      }
      maxQueued = Math.max(maxQueued, source.stats().queuedFrames!);
      await sleep(40);
    }
    const stats = source.stats();
    expect(stats.framesDropped).toBeGreaterThan(0);
    expect(delivered + stats.framesDropped).toBe(120);
    expect(droppedInChunks).toBe(stats.framesDropped);
    expect(maxQueued).toBeLessThanOrEqual(4);
    expect(lastPts).toBe(59.5); // the newest frame always survives
  });

  it("'wait' (default for files): a slow consumer gets every frame, the queue stays bounded", async () => {
    const source = openSource(await testsrc60Mp4(), { maxQueuedFrames: 4, width: 32, height: 32, seconds: 10 });
    let delivered = 0;
    let maxQueued = 0;
    for await (const chunk of source) {
      delivered += chunk.frames.length;
      expect(chunk.dropped).toBe(0);
      maxQueued = Math.max(maxQueued, source.stats().queuedFrames!);
      await sleep(40);
    }
    expect(delivered).toBe(20);
    expect(source.stats().framesDropped).toBe(0);
    // pause at 4; frames already inside the current 64 KiB pipe read may still land (32x32 rgb: 3 KiB each)
    expect(maxQueued).toBeLessThanOrEqual(4 + Math.ceil(65536 / (32 * 32 * 3)) + 1);
  });
});
