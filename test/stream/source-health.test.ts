/** How a session turns its source's health reports into status and gap events (fake engine, scripted source). */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { startCommentary, type FrameChunk, type SessionEvent } from '../../src/stream/index.js';
import { fakeEngine } from './fake-engine.js';
import { syntheticChunks } from './helpers.js';

/** A source the test drives: `send(sec)` yields that second, `state(...)` reports health, `end()` finishes. */
function scriptedSource() {
  const emitter = new EventEmitter();
  const waiting: ((c: FrameChunk | undefined) => void)[] = [];
  const ready: (FrameChunk | undefined)[] = [];
  const push = (c: FrameChunk | undefined) => (waiting.length ? waiting.shift()!(c) : ready.push(c));
  const source = {
    on: (event: 'state', l: (...args: any[]) => void) => emitter.on(event, l),
    async *[Symbol.asyncIterator]() {
      for (;;) {
        const c = ready.length ? ready.shift() : await new Promise<FrameChunk | undefined>((r) => waiting.push(r));
        if (!c) return;
        yield c;
      }
    },
  };
  const frame = { width: 32, height: 24, rgb: new Uint8Array(32 * 24 * 3) };
  return {
    source,
    send: (sec: number) => push({ startSec: sec, dropped: 0, frames: [{ ...frame, ptsSec: sec }, { ...frame, ptsSec: sec + 0.5 }] }),
    state: (s: string, health: object) => emitter.emit('state', s, undefined, health),
    end: () => push(undefined),
  };
}

const untilEvent = (events: SessionEvent[], test: (e: SessionEvent) => boolean) =>
  new Promise<void>((resolve) => {
    const check = () => (events.some(test) ? resolve() : setTimeout(check, 5));
    check();
  });

/** A session of a scripted source on the fake engine, recording its events. */
function scriptedSession(id: string) {
  const src = scriptedSource();
  const events: SessionEvent[] = [];
  const run = startCommentary(src.source, fakeEngine(), { id, skip: 'none', onEvent: (e) => events.push(e) });
  return { src, events, run };
}

describe('session: source health', () => {
  it('a second from before the drop that arrives after the source is back does not use up the gap', async () => {
    const { src, events, run } = scriptedSession('late');
    src.send(0);
    src.send(1);
    await untilEvent(events, (e) => e.type === 'commentary' && e.start === 1);
    src.state('reconnecting', { reason: 'udp://x: no frames for 1.0 s', attempt: 0 });
    src.state('live', {}); // a frame still in ffmpeg's pipe
    src.send(2);
    await untilEvent(events, (e) => e.type === 'commentary' && e.start === 2);
    src.state('reconnecting', { reason: 'udp://x: timed out', attempt: 1 });
    src.state('live', {});
    src.send(6);
    src.send(7);
    src.end();
    await run.done;
    const seconds = events.filter((e) => e.type === 'gap' || e.type === 'commentary').map((e) => (e.type === 'gap' ? `gap ${e.start}-${e.end}` : `${e.start}`));
    expect(seconds).toEqual(['0', '1', '2', 'gap 3-6', '6', '7']);
  });

  it('a source back without losing a second marks no gap, and a later hole is not blamed on it', async () => {
    const { src, events, run } = scriptedSession('brief');
    src.send(0);
    await untilEvent(events, (e) => e.type === 'commentary' && e.start === 0);
    src.state('reconnecting', { reason: 'udp://x: no frames for 1.0 s', attempt: 0 });
    src.state('live', {});
    for (const sec of [1, 2, 3, 9]) src.send(sec);
    src.end();
    await run.done;
    expect(events.filter((e) => e.type === 'gap')).toEqual([]);
  });

  it('reports reconnecting at once with reason and attempt, then live (resumed), then a gap before the next second', async () => {
    const { src, events, run } = scriptedSession('h');
    src.send(0);
    src.send(1);
    await untilEvent(events, (e) => e.type === 'commentary' && e.start === 1);
    src.state('reconnecting', { reason: 'udp://x: no frames for 1.0 s', attempt: 0 });
    src.state('reconnecting', { reason: 'udp://x: timed out', attempt: 1 });
    src.state('live', {});
    src.send(7);
    src.end();
    await run.done;
    const shown = events
      .filter((e) => e.type !== 'status' || e.state !== 'starting')
      .map((e) =>
        e.type === 'status' ? `status ${e.state}${e.attempt !== undefined ? ` ${e.attempt} ${e.reason}` : ''}${e.resumed ? ' resumed' : ''}` : e.type === 'gap' ? `gap ${e.start}-${e.end} ${e.reason}` : e.type === 'commentary' ? `commentary ${e.start}` : e.type,
      );
    expect(shown).toEqual([
      'status live',
      'commentary 0',
      'commentary 1',
      'status reconnecting 0 udp://x: no frames for 1.0 s',
      'status reconnecting 1 udp://x: timed out',
      'status live resumed',
      'gap 2-7 udp://x: timed out',
      'commentary 7',
      'status ended',
      'end',
    ]);
  });

  it('a source that fails ends the session as failed with the reason (not ended)', async () => {
    const events: SessionEvent[] = [];
    await startCommentary(syntheticChunks(5, { failAfter: 2 }), fakeEngine(), { id: 'f', skip: 'none', onEvent: (e) => events.push(e) }).done;
    const last = events.filter((e) => e.type === 'status').at(-1);
    expect(last).toMatchObject({ state: 'failed', reason: 'synthetic source broke' });
    expect(events.filter((e) => e.type === 'commentary')).toHaveLength(2);
  });

  it('a resumed session continues the clock, says it resumed, and marks the time it was down', async () => {
    const events: SessionEvent[] = [];
    await startCommentary(syntheticChunks(2), fakeEngine(), { id: 'r', skip: 'none', startSec: 30, resumeFrom: { endSec: 20, reason: 'server restarted' }, onEvent: (e) => events.push(e) }).done;
    expect(events.find((e) => e.type === 'status' && e.state === 'live')).toMatchObject({ resumed: true, time: 20 });
    expect(events.filter((e) => e.type === 'gap' || e.type === 'commentary').map((e) => (e.type === 'gap' ? `gap ${e.start}-${e.end}` : `c ${(e as any).start}`))).toEqual(['gap 20-30', 'c 30', 'c 31']);
  });
});
