import { describe, expect, it } from 'vitest';
import { PITCH, SILENCE, simulateTruth } from '../../src/synth/index.js';

const SECONDS = 180;

describe('synthetic match truth', () => {
  it('is identical for the same seed and differs between seeds', () => {
    const a = simulateTruth(11, SECONDS);
    const b = simulateTruth(11, SECONDS);
    const c = simulateTruth(12, SECONDS);
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    expect(JSON.stringify(c.events)).not.toBe(JSON.stringify(a.events));
    expect(JSON.stringify(c.transcript.content)).not.toBe(JSON.stringify(a.transcript.content));
  });

  it('backs every spoken second with an event of that second; silence is exactly " ..."', () => {
    for (const seed of [1, 2, 3, 4]) {
      const { events, transcript } = simulateTruth(seed, SECONDS);
      expect(transcript.content).toHaveLength(SECONDS);
      const bySecond = new Map<number, typeof events>();
      for (const e of events) bySecond.set(e.second, [...(bySecond.get(e.second) ?? []), e]);
      let spoken = 0;
      transcript.content.forEach(([start, end, text], i) => {
        expect([start, end]).toEqual([i, i + 1]);
        if (text === SILENCE) return;
        spoken++;
        const own = bySecond.get(i) ?? [];
        expect(own.length, `second ${i}: "${text}" has no event`).toBeGreaterThan(0);
        // The team of an event in that second is named.
        expect(own.some((e) => text.includes(e.team)), `second ${i}: "${text}"`).toBe(true);
        expect(text.trim()).not.toBe('...');
      });
      const withEvents = bySecond.size / SECONDS;
      expect(withEvents).toBeGreaterThan(0.3);
      expect(withEvents).toBeLessThan(0.7);
      // Both talk and quiet spells exist.
      expect(spoken).toBeGreaterThan(SECONDS * 0.15);
      expect(SECONDS - spoken).toBeGreaterThan(SECONDS * 0.3);
    }
  });

  it('has goals, with the score and minute in the commentary', () => {
    const { events, transcript } = simulateTruth(6, SECONDS);
    const goals = events.filter((e) => e.type === 'goal');
    expect(goals.length).toBeGreaterThan(0);
    const g = goals[0];
    expect(g.score[g.teamIndex]).toBe(1);
    const line = transcript.content[g.second][2];
    expect(line).toContain(g.team);
    expect(line).toMatch(/\d-\d/);
  });

  it('produces every kind of event over ten minutes, with sane fields', () => {
    const { events } = simulateTruth(5, 600);
    const types = new Set(events.map((e) => e.type));
    for (const t of ['kickoff', 'pass', 'dribble', 'tackle', 'interception', 'shot', 'save', 'goal', 'throw_in', 'goal_kick']) {
      expect(types, t).toContain(t);
    }
    let lastT = -1;
    for (const e of events) {
      expect(e.t).toBeGreaterThanOrEqual(lastT);
      lastT = e.t;
      expect(e.second).toBe(Math.floor(e.t));
      expect(e.x).toBeGreaterThanOrEqual(-3);
      expect(e.x).toBeLessThanOrEqual(PITCH.lengthM + 3);
      expect(e.y).toBeGreaterThanOrEqual(-3);
      expect(e.y).toBeLessThanOrEqual(PITCH.widthM + 3);
    }
  });

  it('runs halves: half-time, second-half kickoff, full time and a new match', () => {
    const { events } = simulateTruth(3, 130, { halfSeconds: 60 });
    const types = events.map((e) => e.type);
    expect(types).toContain('half_time');
    expect(types).toContain('full_time');
    const ht = events.find((e) => e.type === 'half_time')!;
    expect(events.some((e) => e.type === 'kickoff' && e.t > ht.t && e.half === 1)).toBe(true);
  });

  it('starts from a given score, counts goals on from it, and resets it for a new match', () => {
    const { events } = simulateTruth(3, 130, { halfSeconds: 60, startScore: [11, 9] });
    expect(events[0].score).toEqual([11, 9]);
    const fullTime = events.find((e) => e.type === 'full_time')!;
    const before = events.filter((e) => e.t <= fullTime.t);
    const goals = before.filter((e) => e.type === 'goal');
    expect(fullTime.score[0] + fullTime.score[1]).toBe(20 + goals.length);
    expect(fullTime.detail).toContain(`${fullTime.score[0]}-${fullTime.score[1]}`);
    const nextKickoff = events.find((e) => e.t > fullTime.t && e.type === 'kickoff');
    expect(nextKickoff?.score).toEqual([0, 0]);
  });

  it('writes one discriminative caption per clip naming both teams and the score', () => {
    const { captions, events } = simulateTruth(2, 120, { clipSeconds: 10 });
    expect(captions).toHaveLength(12);
    const names = [...new Set(events.map((e) => e.team))];
    captions.forEach((c, i) => {
      expect([c.start, c.end]).toEqual([i * 10, i * 10 + 10]);
      for (const n of names) expect(c.caption).toContain(n);
      expect(c.caption).toMatch(/\d-\d/);
      expect(c.caption).toMatch(/minute/);
    });
    expect(new Set(captions.map((c) => c.caption)).size).toBeGreaterThanOrEqual(11);
  });
});
