import { describe, expect, it } from 'vitest';
import { claimHolds, parseMemoryClaims } from '../../eval/memory-claims.js';
import { countMemory, factAccuracy, memoryTotal } from '../../eval/memory-metrics.js';
import { FACT_KINDS, MEMORY_TEMPLATES, simulateTruth, type MemoryFacts } from '../../src/synth/index.js';

const teams: [string, string] = ['Sky Blue', 'Red'];

/** Facts of one second, hand-written: Red lead 2-1 at second 100, their number 9 scored twice. */
function facts(second: number, over: Partial<MemoryFacts> = {}): MemoryFacts {
  return {
    second,
    score: [1, 2],
    leader: 'Red',
    lastGoal: { team: 'Red', player: 9, second: 40, minute: 1, tally: 2 },
    minutesSinceGoal: Math.floor((second - 40) / 60),
    shots: [3, 5],
    opener: { team: 'Sky Blue', player: 7, minute: 1 },
    scoreboard: false,
    ...over,
  };
}

describe('memory claims parser', () => {
  it('reads back every template of the world (so the judge cannot drift from the world)', () => {
    expect(parseMemoryClaims(MEMORY_TEMPLATES.score(teams, [1, 2]))).toEqual([{ kind: 'score', leader: 'Red', high: 2, low: 1 }]);
    expect(parseMemoryClaims(MEMORY_TEMPLATES.score(teams, [3, 1]))).toEqual([{ kind: 'score', leader: 'Sky Blue', high: 3, low: 1 }]);
    expect(parseMemoryClaims(MEMORY_TEMPLATES.score(teams, [2, 2]))).toEqual([{ kind: 'score', high: 2, low: 2 }]);
    expect(parseMemoryClaims(MEMORY_TEMPLATES.score(teams, [0, 0]))).toEqual([{ kind: 'score', high: 0, low: 0 }]);
    for (const n of [1, 2, 3, 11, 12, 13, 21, 22]) {
      expect(parseMemoryClaims(MEMORY_TEMPLATES.tally(n))).toEqual([{ kind: 'tally', goals: n }]);
      expect(parseMemoryClaims(MEMORY_TEMPLATES.sinceGoal(n))).toEqual([{ kind: 'sinceGoal', minutes: n }]);
      expect(parseMemoryClaims(MEMORY_TEMPLATES.shots('Sky Blue', n))).toEqual([{ kind: 'shots', team: 'Sky Blue', shots: n }]);
      expect(parseMemoryClaims(MEMORY_TEMPLATES.opener('Blue', n))).toEqual([{ kind: 'opener', team: 'Blue', minute: n }]);
    }
  });

  it('reads several facts from one line and none from event-only lines or silence', () => {
    const line = 'GOAL! Red score through number 9! Red lead 2-1 in the 12th minute. His 2nd of the match.';
    expect(parseMemoryClaims(line)).toEqual([
      { kind: 'score', leader: 'Red', high: 2, low: 1 },
      { kind: 'tally', goals: 2 },
    ]);
    expect(parseMemoryClaims('Half-time here, Sky Blue 1-2 Red.')).toEqual([{ kind: 'score', leader: 'Red', high: 2, low: 1 }]);
    expect(parseMemoryClaims("That's full time, Red 0-0 Blue.")).toEqual([{ kind: 'score', high: 0, low: 0 }]);
    expect(parseMemoryClaims("Red's number 9 shoots!")).toEqual([]);
    expect(parseMemoryClaims('Neat ball from Red\'s number 5.')).toEqual([]);
    expect(parseMemoryClaims(' ...')).toEqual([]);
    expect(parseMemoryClaims('')).toEqual([]);
  });

  it('checks claims against the facts: right and wrong per kind', () => {
    const f = facts(100);
    const holds = (line: string) => parseMemoryClaims(line).map((c) => claimHolds(c, f, teams));
    expect(holds('Red lead 2-1.')).toEqual([true]);
    expect(holds('Red lead 1-0.')).toEqual([false]);
    expect(holds('Sky Blue lead 2-1.')).toEqual([false]);
    expect(holds('Level at 1-1.')).toEqual([false]);
    expect(holds('His 2nd of the match.')).toEqual([true]);
    expect(holds('His 1st of the match.')).toEqual([false]);
    expect(holds('1 minute since the last goal.')).toEqual([true]);
    expect(holds('2 minutes since the last goal.')).toEqual([false]);
    expect(holds("Red's 5th shot.")).toEqual([true]);
    expect(holds("Sky Blue's 5th shot.")).toEqual([false]);
    expect(holds('Sky Blue opened the scoring in the 1st minute.')).toEqual([true]);
    expect(holds('Red opened the scoring in the 1st minute.')).toEqual([false]);
    const none = facts(100, { lastGoal: null, opener: null, minutesSinceGoal: null, score: [0, 0], leader: null });
    // Claims come out in pattern order: score, tally, minutes since the last goal.
    expect(parseMemoryClaims('His 1st of the match. Still goalless. 0 minutes since the last goal.').map((c) => claimHolds(c, none, teams))).toEqual([true, false, false]);
  });

  it('counts right, wrong and not said over hand-written lines, with a one-second grace', () => {
    const truth = Array.from({ length: 6 }, (_, s) => facts(100 + s));
    // Second 2: Red's 6th shot happens, so the 5th is right at 2 only by the grace (facts at 1).
    truth[2] = { ...truth[2], shots: [3, 6] };
    truth[3] = { ...truth[3], shots: [3, 6] };
    truth[4] = { ...truth[4], shots: [3, 6] };
    truth[5] = { ...truth[5], shots: [3, 6] };
    const reference = [' ...', 'Red lead 2-1.', "Red's 6th shot.", ' ...', 'His 2nd of the match.', 'Sky Blue opened the scoring in the 1st minute.'];
    const model = [
      { start: 0, text: ' ...' },
      { start: 1, text: 'Tackle! Red lead 2-1.' }, // right, says the reference's score
      { start: 2, text: "Red's 5th shot." }, // right by the grace (true at second 1)
      { start: 3, text: "Red's 5th shot. Level at 2-2." }, // both wrong
      { start: 4, text: ' ...' }, // reference's tally not said (nor at 5)
      { start: 5, text: 'Red opened the scoring in the 1st minute.' }, // wrong
    ];
    const c = countMemory(truth, reference, model, teams);
    expect(c.score).toEqual({ right: 1, wrong: 1, notSaid: 0, reference: 1 });
    expect(c.shots).toEqual({ right: 1, wrong: 1, notSaid: 0, reference: 1 });
    expect(c.tally).toEqual({ right: 0, wrong: 0, notSaid: 1, reference: 1 });
    expect(c.opener).toEqual({ right: 0, wrong: 1, notSaid: 0, reference: 1 });
    expect(c.sinceGoal).toEqual({ right: 0, wrong: 0, notSaid: 0, reference: 0 });
    const total = memoryTotal(c);
    expect(total).toEqual({ right: 2, wrong: 3, notSaid: 1, reference: 4 });
    expect(factAccuracy(total)).toBeCloseTo(0.4);
    // Only seconds [2, 4): the claims at 2 and 3.
    expect(memoryTotal(countMemory(truth, reference, model, teams, 2, 4))).toEqual({ right: 1, wrong: 2, notSaid: 0, reference: 1 });
  });

  it("finds every fact in the world's own commentary right, on both world versions", () => {
    for (const world of [1, 2] as const) {
      const t = simulateTruth(6, 900, { world, halfSeconds: 400 });
      const names: [string, string] = ['', ''];
      for (const e of t.events) names[e.teamIndex] ||= e.team;
      const reference = t.transcript.content.map((r) => r[2]);
      const c = countMemory(t.facts, reference, t.transcript.content.map(([start, , text]) => ({ start, text })), names);
      const total = memoryTotal(c);
      expect(total.wrong, `world ${world}`).toBe(0);
      expect(total.notSaid).toBe(0);
      expect(total.right).toBe(total.reference);
      if (world === 2) for (const k of FACT_KINDS) expect(c[k].right, k).toBeGreaterThan(0);
      else expect(c.score.right).toBeGreaterThan(0);
    }
  });
});
