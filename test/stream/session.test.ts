/** CommentarySession end to end over synthetic chunks with the tiny model in real engine workers. */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { EnginePool } from '../../src/model/pool.js';
import type { CommentaryEvent, SessionEvent, StatusEvent } from '../../src/stream/events.js';
import { CommentarySession, type SessionOptions } from '../../src/stream/session.js';
import { TextTokenizer } from '../../src/model/tokenizer.js';
import { FIXTURES, crashingEngineWorker } from '../model/helpers.js';
import { syntheticChunks } from './helpers.js';

let pool: EnginePool;
beforeAll(async () => {
  pool = await EnginePool.create({ modelDir: join(FIXTURES, 'tiny-random-1l'), workers: 1 });
});
afterAll(() => pool?.destroy());

async function runSession(o: Partial<SessionOptions> & Pick<SessionOptions, 'source'>, during?: (s: CommentarySession, e: SessionEvent) => void) {
  const session = new CommentarySession({ id: o.id ?? 's', engine: pool, maxTokensPerSecond: 6, limits: { windowSec: 4, textSinkTokens: 16, textWindowTokens: 32 }, ...o });
  const events: SessionEvent[] = [];
  session.on('event', (e: SessionEvent) => {
    events.push(e);
    during?.(session, e);
  });
  await session.run();
  const commentary = events.filter((e): e is CommentaryEvent => e.type === 'commentary');
  return { session, events, commentary };
}

describe('CommentarySession', () => {
  it('emits one commentary per second with exact timestamps, then end', async () => {
    const { events, commentary } = await runSession({ source: syntheticChunks(12), skip: 'none' });
    expect(commentary.map((c) => [c.start, c.end])).toEqual(Array.from({ length: 12 }, (_, i) => [i, i + 1]));
    for (const c of commentary) {
      expect(c.text.length).toBeGreaterThan(0);
      expect(c.tokens).toBeLessThanOrEqual(6);
      expect(c.latencyMs).toBeGreaterThanOrEqual(0);
    }
    expect(events.at(-1)).toEqual({ type: 'end', stream: 's' });
    const states = events.filter((e): e is StatusEvent => e.type === 'status').map((e) => e.state);
    expect(states[0]).toBe('starting');
    expect(states.at(-1)).toBe('ended');
  });

  it('handles silence: " ..." is one short commentary and is not carried into previous text', async () => {
    const silenceId = new TextTokenizer(pool.folder.tokenizerJson).singleTokenId(' ...')!;
    const { commentary, session } = await runSession({ source: syntheticChunks(6), skip: 'none', sampling: { temperature: 0, logitBias: { [silenceId]: 1000 } } });
    expect(commentary.map((c) => c.text)).toEqual(Array(6).fill(' ...'));
    expect(commentary.every((c) => c.tokens === 1)).toBe(true);
    expect(session.previousTexts()).toEqual([]);
  });

  it('takes a new prompt mid-stream without losing a second', async () => {
    const spy = vi.spyOn(pool, 'setPrompt');
    const { commentary } = await runSession({ source: syntheticChunks(6, { intervalMs: 5 }), skip: 'none' }, (s, e) => {
      if (e.type === 'commentary' && e.start === 2) s.setPrompt('Only talk about goals.');
    });
    expect(commentary).toHaveLength(6);
    expect(spy).toHaveBeenCalledWith('s', 'Only talk about goals.');
    spy.mockRestore();
  });

  it('restarts from its transcript after a worker crash and keeps every second', async () => {
    // The real engine in a fixture worker that dies on its 5th step: second 4 of this stream.
    const crashing = await EnginePool.create({ modelDir: join(FIXTURES, 'tiny-random-1l'), workers: 1, workerUrl: crashingEngineWorker(5) });
    try {
      const exits: { streams: string[] }[] = [];
      crashing.on('workerExit', (e) => exits.push(e));
      const open = vi.spyOn(crashing, 'open');
      const { commentary, events, session } = await runSession({ id: 'crashy', engine: crashing, source: syntheticChunks(8), skip: 'none' });
      expect(exits.map((e) => e.streams)).toEqual([['crashy']]);
      const errors = events.filter((e) => e.type === 'error');
      expect(errors).toEqual([expect.objectContaining({ code: 'worker_failed', message: expect.stringMatching(/crashed on step 5 \(crashy at 4s\)/) })]);
      expect(session.restartCount).toBe(1);
      expect(commentary.map((c) => c.start)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      // Reopened once, after second 3, with the transcript so far as previous text.
      expect(open).toHaveBeenCalledTimes(2);
      const reopen = open.mock.calls[1];
      const spoken = commentary.slice(0, 4).filter((c) => c.text !== ' ...').map((c) => c.text);
      expect(reopen[2]).toEqual(spoken);
    } finally {
      await crashing.destroy();
    }
  });

  it("policy 'full' ends the stream with cache_full once the next round does not fit", async () => {
    const { events, commentary } = await runSession({ id: 'full', source: syntheticChunks(30), skip: 'none', policy: 'full', maxBytesPerStream: 256 * 200 });
    const err = events.find((e) => e.type === 'error');
    expect(err).toMatchObject({ code: 'cache_full', message: expect.stringMatching(/KV cache full at \d+s/) });
    expect(commentary.length).toBeGreaterThan(1);
    expect(commentary.length).toBeLessThan(30);
    expect(events.at(-1)).toEqual({ type: 'end', stream: 'full' });
  });

  it('a failing stream does not stall another on the same worker', async () => {
    const [bad, good] = await Promise.all([
      runSession({ id: 'bad', source: syntheticChunks(10, { failAfter: 2 }), skip: 'none' }),
      runSession({ id: 'good', source: syntheticChunks(10, { intervalMs: 5 }), skip: 'none' }),
    ]);
    expect(bad.events.some((e) => e.type === 'error' && /synthetic source broke/.test(e.message))).toBe(true);
    expect(bad.commentary.length).toBe(2);
    expect(good.commentary.map((c) => c.start)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});
