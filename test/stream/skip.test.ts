/** Lag handling with a fake engine slower than real time (no model needed). */
import { describe, expect, it, vi } from 'vitest';
import { SKIPPED_GAP_REASON, type CommentaryEvent, type GapEvent, type SessionEvent, type StatusEvent } from '../../src/stream/events.js';
import { CommentarySession } from '../../src/stream/session.js';
import { fakeEngine } from './fake-engine.js';
import { syntheticChunks } from './helpers.js';

/**
 * A source that yields a second every 10 ms and an engine that takes 40 ms a second, on a fake clock: the
 * engine falls behind by the same amount on every run, however busy the machine is.
 */
async function run(skip: 'oldest' | 'none') {
  vi.useFakeTimers();
  const events: SessionEvent[] = [];
  try {
    const session = new CommentarySession({ id: 'lag', engine: fakeEngine({ stepMs: 40 }), source: syntheticChunks(30, { intervalMs: 10 }), skip, maxBacklogSec: 1 });
    session.on('event', (e: SessionEvent) => events.push(e));
    let finished = false;
    const done = session.run().finally(() => (finished = true));
    while (!finished) await vi.advanceTimersByTimeAsync(5);
    await done;
  } finally {
    vi.useRealTimers();
  }
  return {
    commentary: events.filter((e): e is CommentaryEvent => e.type === 'commentary'),
    status: events.filter((e): e is StatusEvent => e.type === 'status'),
    gaps: events.filter((e): e is GapEvent => e.type === 'gap'),
    events,
  };
}

describe('falling behind real time', () => {
  it("skip 'oldest' drops whole seconds, reports them, and stays in order", async () => {
    const { commentary, status } = await run('oldest');
    const starts = commentary.map((c) => c.start);
    expect(starts.length).toBeLessThan(30);
    expect(starts).toEqual([...starts].sort((a, b) => a - b));
    const last = status.at(-1)!;
    expect(last.skippedSeconds).toBe(30 - starts.length);
    expect(status.some((s) => s.state === 'lagging')).toBe(true);
  });

  it("every skipped second is a gap line, after the second before it: each of the 30 seconds is a line or a gap, once", async () => {
    const { commentary, gaps, events } = await run('oldest');
    expect(gaps.length).toBeGreaterThan(0);
    expect(gaps.every((g) => g.reason === SKIPPED_GAP_REASON && g.end > g.start)).toBe(true);
    const covered = [...commentary.map((c) => c.start), ...gaps.flatMap((g) => Array.from({ length: g.end - g.start }, (_, i) => g.start + i))];
    expect(covered.sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    // in stream-time order: a gap comes after the commentary of the second before it
    const inOrder = events.flatMap((e) => (e.type === 'commentary' || e.type === 'gap' ? [e.start] : []));
    expect(inOrder).toEqual([...inOrder].sort((a, b) => a - b));
  });

  it("skip 'none' keeps every second (files run as fast as the engine allows)", async () => {
    const { commentary, status, gaps } = await run('none');
    expect(commentary.map((c) => c.start)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(status.some((s) => s.state === 'lagging')).toBe(true);
    expect(status.at(-1)!.skippedSeconds).toBe(0);
    expect(gaps).toEqual([]);
  });
});

describe('stop', () => {
  it('stops between seconds and closes a source that is waiting for its next second', async () => {
    let closed = false;
    const source = {
      async *[Symbol.asyncIterator]() {
        yield* syntheticChunks(2);
        await new Promise(() => undefined); // a live source with nothing more to say
      },
      close: async () => {
        closed = true;
      },
    };
    const session = new CommentarySession({ id: 'stop', engine: fakeEngine({ stepMs: 1 }), source, skip: 'none' });
    const starts: number[] = [];
    session.on('event', (e: SessionEvent) => {
      if (e.type === 'commentary') {
        starts.push(e.start);
        if (e.start === 1) session.stop();
      }
    });
    await session.run();
    expect(starts).toEqual([0, 1]);
    expect(closed).toBe(true);
  });
});
