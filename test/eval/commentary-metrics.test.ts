import { describe, expect, it } from 'vitest';
import { addOutcomes, countCommentary, rates, type OutcomesByKind, type Segment } from '../../eval/commentary-metrics.js';
import { parseLine, parseScoreClaim } from '../../eval/event-parser.js';
import { simulateTruth, type MatchEvent } from '../../src/synth/index.js';

describe('parseLine', () => {
  it('reads type and team from the world phrasing, with a score tail', () => {
    expect(parseLine('Corner to Sky Blue!')).toEqual({ type: 'corner', team: 'Sky Blue' });
    expect(parseLine("Red's number 7 shoots! Red lead 1-0 in the 3rd minute.")).toEqual({ type: 'shot', team: 'Red' });
    expect(parseLine('GOAL! Purple score through number 9! Purple lead 2-1 in the 40th minute.')).toEqual({ type: 'goal', team: 'Purple' });
  });

  it('returns nothing for silence and for lines no phrasing explains', () => {
    expect(parseLine(' ...')).toBeUndefined();
    expect(parseLine('What a lovely afternoon for football.')).toBeUndefined();
    expect(parseLine('Corner to Green!')).toBeUndefined(); // not a kit colour of the world
  });

  it('parses score claims', () => {
    expect(parseScoreClaim('Red lead 2-1 in the 9th minute.')).toEqual({ leader: 'Red', high: 2, low: 1 });
    expect(parseScoreClaim('It is level at 1-1.')).toEqual({ high: 1, low: 1 });
    expect(parseScoreClaim('Still goalless in the 1st minute.')).toEqual({ high: 0, low: 0 });
    expect(parseScoreClaim('Corner to Red!')).toBeUndefined();
  });

  it('explains every spoken line of a 20-minute reference transcript as its headline event', () => {
    const truth = simulateTruth(11, 1200);
    const spoken = truth.transcript.content.filter((r) => r[2] !== " ...");
    expect(spoken.length).toBeGreaterThan(100);
    for (const [start, , text] of spoken) {
      const parsed = parseLine(text);
      expect(parsed, text).toBeDefined();
      const events = truth.events.filter((e) => e.second === start);
      expect(events.some((e) => e.type === parsed!.type && e.team === parsed!.team), text).toBe(true);
    }
  });
});

function event(second: number, type: MatchEvent['type'], team: string, score: [number, number] = [0, 0], detail?: string): MatchEvent {
  return { t: second + 0.2, second, type, team, teamIndex: team === 'Red' ? 0 : 1, player: 7, x: 0, y: 0, score, minute: 1, half: 0, detail } as MatchEvent;
}

describe('countCommentary', () => {
  const teams = ['Red', 'Blue'] as const;
  const events = [event(1, 'corner', 'Red'), event(4, 'goal', 'Blue', [0, 1]), event(6, 'pass', 'Red', [0, 1], 'short')];
  const reference = [' ...', 'Corner to Red!', ' ...', ' ...', 'Goal for Blue! Blue lead 1-0, 1st minute.', ' ...', ' ...', ' ...'];

  it('scores the reference against itself as perfect', () => {
    const model: Segment[] = reference.map((text, start) => ({ start, text }));
    const r = rates(countCommentary(events, reference, model, teams));
    expect(r).toEqual({ eventRecall: 1, eventPrecision: 1, silenceAccuracy: 1, goalRecall: 1, scoreCorrectness: 1 });
  });

  it('accepts a one-second lag, counts wrong teams, chatter and wrong scores exactly', () => {
    const model: Segment[] = [
      { start: 0, text: ' ...' },
      { start: 1, text: ' ...' },
      { start: 2, text: 'Corner to Red!' }, // one second late: recalled, and right (event at m - 1)
      { start: 3, text: ' ...' },
      { start: 4, text: 'Goal for Red! Red lead 1-0, 1st minute.' }, // wrong team, wrong score
      { start: 5, text: ' ...' },
      { start: 6, text: ' ...' },
      { start: 7, text: 'Strong tackle from Blue\'s number 5!' }, // nothing happened
    ];
    const c = countCommentary(events, reference, model, teams);
    expect(c).toMatchObject({ voiced: 2, recalled: 1, typeNamed: 2, teamNamed: 1, spoken: 3, spokenRight: 1, goals: 1, goalsRecalled: 0, scoreClaims: 1, scoreClaimsRight: 0 });
    // Quiet seconds: no worth-saying event at s-1 or s -> 0, 3, 6, 7 (the short pass at 6 is not worth saying).
    expect(c.quiet).toBe(4);
    expect(c.quietKept).toBe(3);
  });

  it('breaks voiced events down by kind, with the ones no line answered', () => {
    const withCross = [...events, event(7, 'pass', 'Blue', [0, 1], 'cross')];
    const ref = [...reference.slice(0, 7), 'Blue whip the cross into the box!'];
    const model: Segment[] = [
      { start: 1, text: 'Corner to Blue!' }, // type right, team wrong
      { start: 5, text: 'Goal for Blue! Blue lead 1-0, 1st minute.' }, // one second late
    ];
    const byKind: OutcomesByKind = {};
    const c = countCommentary(withCross, ref, model, teams, 0, ref.length, byKind);
    expect(byKind).toEqual({
      corner: { voiced: 1, recalled: 0, typeNamed: 1, teamNamed: 0, unanswered: 0 },
      goal: { voiced: 1, recalled: 1, typeNamed: 1, teamNamed: 1, unanswered: 0 },
      'pass cross': { voiced: 1, recalled: 0, typeNamed: 0, teamNamed: 0, unanswered: 1 },
    });
    expect(Object.values(byKind).reduce((n, o) => n + o.voiced, 0)).toBe(c.voiced);
    // Matches add up kind by kind.
    const twice = addOutcomes(addOutcomes({}, byKind), byKind);
    expect(twice.goal).toEqual({ voiced: 2, recalled: 2, typeNamed: 2, teamNamed: 2, unanswered: 0 });
    expect(byKind.goal.voiced).toBe(1); // the source is not modified
  });
});
