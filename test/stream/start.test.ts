/** startCommentary: the one way to start commentary, with a fake engine (no model needed). */
import { describe, expect, it } from 'vitest';
import { startCommentary, type FrameChunk, type SessionEvent } from '../../src/stream/index.js';
import { testsrc60Mp4 } from '../ingest/media.js';
import { fakeEngine } from './fake-engine.js';
import { syntheticChunks } from './helpers.js';

const fakeEngineWith = (sizes: string[] = []) => fakeEngine({ sizes });

describe('startCommentary', () => {
  it('runs given chunks to the end: every event from the first status on, each chunk tapped', async () => {
    const events: SessionEvent[] = [];
    const tapped: number[] = [];
    const run = startCommentary(syntheticChunks(4), fakeEngineWith(), { id: 'c', skip: 'none', onEvent: (e) => events.push(e), onChunk: (c: FrameChunk) => tapped.push(c.startSec) });
    expect(run.id).toBe('c');
    await run.done;
    expect(events[0]).toMatchObject({ type: 'status', state: 'starting' });
    expect(events.filter((e) => e.type === 'commentary').map((e) => (e.type === 'commentary' ? e.start : -1))).toEqual([0, 1, 2, 3]);
    expect(events.at(-1)).toEqual({ type: 'end', stream: 'c' });
    expect(tapped).toEqual([0, 1, 2, 3]);
  });

  it('opens a source by name through ingest at the model frame size and rate, and stop() closes it', async () => {
    const sizes: string[] = [];
    const commentary: number[] = [];
    const run = startCommentary(await testsrc60Mp4(), fakeEngineWith(sizes), {
      id: 'f',
      skip: 'none',
      onEvent: (e) => {
        if (e.type === 'commentary') commentary.push(e.start);
      },
    });
    while (commentary.length < 2) await new Promise((r) => setTimeout(r, 20));
    await run.stop(); // resolves once the session ended and ffmpeg is closed (the global check finds none left)
    expect(sizes[0]).toBe('32x24x2');
    expect(commentary.length).toBeLessThan(60);
  });
});
