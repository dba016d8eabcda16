import { describe, expect, it } from 'vitest';
import { freeStreams, planPlacement } from '../../src/cluster/placement.js';

const w = (id: string, free: number) => ({ id, free, running: [], at: '' });

describe('planPlacement', () => {
  it('gives each stream to the worker with the most room, counting it down; ties go to the lower id', () => {
    const plan = planPlacement(['s1', 's2', 's3', 's4'], [w('b', 2), w('a', 2), w('c', 1)]);
    expect([...plan]).toEqual([
      ['s1', 'a'],
      ['s2', 'b'],
      ['s3', 'a'],
      ['s4', 'b'],
    ]);
  });

  it('leaves out what no worker has room for (the gateways report it)', () => {
    expect([...planPlacement(['s1', 's2'], [w('a', 1), w('b', 0)])]).toEqual([['s1', 'a']]);
    expect(planPlacement(['s1'], []).size).toBe(0);
  });
});

describe('freeStreams', () => {
  it("counts, per engine worker, the expected streams that fit under the headroom", () => {
    const load = { workers: [{ streams: 1, busy: 0.1, load: 0.1 }, { streams: 2, busy: 0.5, load: 0.55 }], expectedCost: 0.1, measured: true, headroom: 0.6, windowMs: 10_000 };
    expect(freeStreams(load)).toBe(5); // 0.5 / 0.1 on the first, nothing on the second
  });
});
