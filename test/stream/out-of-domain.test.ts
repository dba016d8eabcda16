/** How a session reports its engine's out-of-domain gate (scripted engine readings, synthetic chunks). */
import { describe, expect, it } from 'vitest';
import type { SecondResult } from '../../src/model/stream-engine.js';
import { startCommentary, type SessionEvent, type StatusEvent } from '../../src/stream/index.js';
import { fakeEngine } from './fake-engine.js';
import { syntheticChunks } from './helpers.js';

/** The fake engine, with second t out of domain when `out[t]`: silent then, as the real engine is. */
function scriptedDomainEngine(out: boolean[]) {
  const engine = fakeEngine();
  (engine.config as { name: string }).name = 'test-commentator';
  const step = engine.step.bind(engine);
  engine.step = async (id, f) => {
    const r = (await step(id, f)) as SecondResult;
    const o = out[f.startSec] ?? false;
    return { ...r, ...(o ? { text: ' ...', silent: true } : {}), ood: { score: o ? 40 : 1, smoothed: o ? 30 : 1.5, outOfDomain: o, threshold: 9.5 } };
  };
  return engine;
}

describe('session: out of domain', () => {
  it('goes out_of_domain (naming the model, the score and the threshold) while the gate is closed, silent, and back to live after', async () => {
    const out = [false, false, true, true, true, true, true, true, false, false, false];
    const events: SessionEvent[] = [];
    const run = startCommentary(syntheticChunks(out.length), scriptedDomainEngine(out), { id: 'ood', skip: 'none', statusEverySec: 5, onEvent: (e) => events.push(e) });
    await run.done;
    // An unpaced source runs ahead of the engine: `lagging` is not what this test is about.
    const statuses = events.filter((e): e is StatusEvent => e.type === 'status' && e.state !== 'lagging');
    const changes = statuses.filter((s, i) => i === 0 || s.state !== statuses[i - 1].state).map((s) => `${s.state}@${s.time}`);
    expect(changes).toEqual(['starting@0', 'live@0', 'out_of_domain@3', 'live@9', 'ended@11']);
    const entered = statuses.find((s) => s.state === 'out_of_domain')!;
    expect(entered.reason).toBe('the picture is not the world test-commentator was trained on (out-of-domain score 30.0 >= 9.5): commentary paused');
    expect(entered.oodScore).toBe(30);
    // The periodic status at 5 s keeps saying so.
    expect(statuses.find((s) => s.time === 5)).toMatchObject({ state: 'out_of_domain', reason: entered.reason });
    const said = events.filter((e) => e.type === 'commentary').map((e) => (e as { text: string }).text);
    expect(said.slice(2, 8).every((t) => t === ' ...')).toBe(true);
    expect(said[8]).toBe(' ok 8');
  });

  it('an engine without the signal never reports out_of_domain nor a score', async () => {
    const events: SessionEvent[] = [];
    await startCommentary(syntheticChunks(6), fakeEngine(), { id: 'plain', skip: 'none', onEvent: (e) => events.push(e) }).done;
    const statuses = events.filter((e): e is StatusEvent => e.type === 'status');
    expect(statuses.some((s) => s.state === 'out_of_domain' || s.oodScore !== undefined)).toBe(false);
  });
});
