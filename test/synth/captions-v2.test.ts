import { describe, expect, it } from 'vitest';
import { orderFreeKey } from '../../eval/caption-order.js';
import { inOrder, OrderedCaptioner, phases, PITCH, simulateTruth, type MatchEvent, type MemoryFacts, type SecondSummary } from '../../src/synth/index.js';

const names: [string, string] = ['Red', 'Blue'];
const X = { L: 8, M: PITCH.lengthM / 2, R: PITCH.lengthM - 8 } as const;

function ev(type: MatchEvent['type'], t: number, teamIndex: number, extra: Partial<MatchEvent> = {}): MatchEvent {
  return { t, second: Math.floor(t), type, team: names[teamIndex], teamIndex, player: 9, x: 50, y: 20, score: [0, 0], minute: 12, half: 0, ...extra };
}

function facts(second: number, extra: Partial<MemoryFacts> = {}): MemoryFacts {
  return { second, score: [0, 0], leader: null, lastGoal: null, minutesSinceGoal: null, shots: [0, 0], opener: null, scoreboard: true, ...extra };
}

/** A clip from per-second letters: zones "MMMLL...", possession "RRBB-..." (- nobody), events by second. */
function clip(startSec: number, zones: string, teams: string, events: Record<number, MatchEvent[]> = {}, score: [number, number] = [0, 0], factsAt: Record<number, Partial<MemoryFacts>> = {}): SecondSummary[] {
  return [...zones].map((z, i) => ({
    events: events[startSec + i] ?? [],
    ballX: X[z as keyof typeof X],
    possession: teams[i] === 'R' ? 0 : teams[i] === 'B' ? 1 : -1,
    score,
    minute: 12,
    half: 0,
    facts: facts(startSec + i, factsAt[startSec + i]),
  }));
}

const SETTING = 'Red vs Blue, Red 0-0 Blue, 12th minute of the first half';
const tell = (seconds: SecondSummary[], c = new OrderedCaptioner()): string => c.caption('v', seconds[0].facts.second, seconds[0].facts.second + seconds.length, seconds, names).caption;

describe('version-2 caption parts', () => {
  it('phases drop blips shorter than 2 s, merge neighbours, skip unknown seconds, keep the longest blip when all are blips', () => {
    expect(phases(['R', 'R', 'B', 'R', 'R', 'R'])).toEqual([{ value: 'R', at: 0 }]);
    expect(phases(['R', 'R', 'B', 'B', 'B'])).toEqual([{ value: 'R', at: 0 }, { value: 'B', at: 2 }]);
    expect(phases(['R', undefined, 'R', 'B', 'B'])).toEqual([{ value: 'R', at: 0 }, { value: 'B', at: 3 }]);
    expect(phases(['R', 'B', 'R', 'B', 'B', 'R'])).toEqual([{ value: 'B', at: 3 }]);
    expect(phases([undefined, undefined])).toEqual([]);
  });

  it('puts order words between the parts: then, and finally for the last of three or more', () => {
    expect(inOrder(['A'])).toBe('A');
    expect(inOrder(['A', 'B'])).toBe('A, then B');
    expect(inOrder(['A', 'B', 'C'])).toBe('A, then B, finally C');
    expect(inOrder(['A', 'B', 'C', 'D'])).toBe('A, then B, then C, finally D');
  });
});

describe('OrderedCaptioner', () => {
  it('tells possession, pitch third and restarts in the order they happened', () => {
    const seconds = clip(100, 'MMMLLLLLMM', 'RRRRBBBBBB', { 100: [ev('corner', 100.4, 0)], 101: [ev('pass', 101.2, 0)] });
    expect(tell(seconds)).toBe(`${SETTING}: Red on the ball in midfield, then a corner to Red, then play moves to the left end, then Blue on the ball, finally play moves back to midfield.`);
  });

  it('the same beats in another order give another caption with the same order-free content (a hard negative)', () => {
    const a = tell(clip(100, 'MMMMLLLLLL', 'RRRRRRBBBB'));
    const b = tell(clip(100, 'MMMMMMLLLL', 'RRRRBBBBBB'));
    expect(a).toBe(`${SETTING}: Red on the ball in midfield, then play moves to the left end, finally Blue on the ball.`);
    expect(b).toBe(`${SETTING}: Red on the ball in midfield, then Blue on the ball, finally play moves to the left end.`);
    expect(orderFreeKey(a, 2)).toBe(orderFreeKey(b, 2));
    // Whereas another team or third is other content, not only another order.
    expect(orderFreeKey(tell(clip(100, 'MMMMRRRRRR', 'RRRRRRBBBB')), 2)).not.toBe(orderFreeKey(a, 2));
  });

  it('says who kept the ball where when nothing changed', () => {
    expect(tell(clip(0, 'RRRRRRRRRR', 'BBBBBBBBBB'))).toBe(`${SETTING}: Blue keep the ball at the right end.`);
    expect(tell(clip(0, 'MMMMMMMMMM', '----------'))).toBe(`${SETTING}: nobody on the ball in midfield.`);
  });

  it('names what a goal means and the corner it came from, in this clip or an earlier one', () => {
    const goal = (t: number, score: [number, number], teamIndex = 0): MatchEvent => ev('goal', t, teamIndex, { score });
    const withCorner = clip(200, 'RRRRRRRRRR', 'RRRRRRRRRR', { 201: [ev('corner', 201.1, 0)], 204: [ev('shot', 204.2, 0, { detail: 'header' })], 205: [goal(205.0, [1, 1])] }, [1, 1]);
    expect(tell(withCorner)).toBe('Red vs Blue, Red 1-1 Blue, 12th minute of the first half: Red on the ball at the right end, then a corner to Red, then a Red header, finally Red score the equaliser from the corner (1-1).');

    // The corner in the clip before: only memory links the goal to it.
    const c = new OrderedCaptioner();
    tell(clip(300, 'RRRRRRRRRR', 'RRRRRRRRRR', { 308: [ev('corner', 308.5, 0)] }), c);
    const later = tell(clip(310, 'RRRRRRRRRR', 'RRRRRRRRRR', { 312: [goal(312.5, [2, 1])] }, [2, 1], { 312: { lastGoal: { team: 'Red', player: 9, second: 312, minute: 12, tally: 2 } } }), c);
    expect(later).toContain("Red score the go-ahead goal from an earlier corner (2-1), number 9's second goal");

    // A Blue interception between corner and goal breaks the move; so does time.
    const broken = new OrderedCaptioner();
    expect(tell(clip(400, 'RRRRRRRRRR', 'RRRRRRRRRR', { 400: [ev('corner', 400.5, 0)], 402: [ev('interception', 402.1, 1)], 404: [goal(404.5, [1, 0])] }, [1, 0]), broken)).toContain('Red score the opener (1-0)');
    const stale = new OrderedCaptioner();
    tell(clip(500, 'RRRRRRRRRR', 'RRRRRRRRRR', { 500: [ev('corner', 500.5, 0)] }), stale);
    tell(clip(510, 'RRRRRRRRRR', 'RRRRRRRRRR'), stale);
    expect(tell(clip(520, 'RRRRRRRRRR', 'RRRRRRRRRR', { 525: [goal(525.5, [3, 0])] }, [3, 0]), stale)).toContain('Red score another goal (3-0)');
    expect(tell(clip(600, 'LLLLLLLLLL', 'BBBBBBBBBB', { 601: [goal(601.5, [2, 1], 1)] }, [2, 1]))).toContain('Blue score a goal back (2-1)');
  });

  it('keeps at most 6 beats, the most important ones, still in time order', () => {
    const events: Record<number, MatchEvent[]> = {};
    for (let s = 0; s < 10; s++) events[s] = [ev('throw_in', s + 0.1, s % 2)];
    events[7] = [ev('shot', 7.1, 0), ev('save', 7.6, 1)];
    const caption = tell(clip(0, 'MMLLMMRRMM', 'RRBBRRBBRR', events));
    const beats = caption.split(': ')[1].split(/, (?:then|finally) /).length - 1;
    expect(beats).toBe(6);
    expect(caption).toMatch(/a Red shot, (then|finally) the Blue keeper saves/);
  });
});

/** The told events of a version-2 caption as [type, team], in the caption's order. */
function toldEvents(caption: string): string[] {
  const out: string[] = [];
  for (const part of caption.replace(/\.$/, '').split(': ')[1].split(/, (?:then|finally) /).slice(1)) {
    const m =
      /^(.+) kick off$/.exec(part)?.slice(1).map((t) => `kickoff ${t}`) ??
      /^an? (.+) (?:shot|header|shot from distance)$/.exec(part)?.slice(1).map((t) => `shot ${t}`) ??
      /^the (.+) keeper (?:saves|parries)$/.exec(part)?.slice(1).map((t) => `save ${t}`) ??
      /^(.+?) score /.exec(part)?.slice(1).map((t) => `goal ${t}`) ??
      /^a (throw-in|corner|goal kick) to (.+)$/.exec(part)?.slice(1).join(' ').replace('throw-in', 'throw_in').replace('goal kick', 'goal_kick');
    if (m) out.push(Array.isArray(m) ? m[0] : m);
  }
  return out;
}

function isSubsequence(sub: readonly string[], of: readonly string[]): boolean {
  let i = 0;
  for (const x of of) if (i < sub.length && sub[i] === x) i++;
  return i === sub.length;
}

describe('version-2 captions of simulated matches', () => {
  const seeds = [300000, 300001, 300002, 300003, 300004, 300005];
  const truths = seeds.map((seed) => ({ one: simulateTruth(seed, 600), two: simulateTruth(seed, 600, { captionVersion: 2 }) }));

  it('are deterministic and leave the match, the commentary and the clips as they were', () => {
    expect(simulateTruth(seeds[0], 600, { captionVersion: 2 }).captions).toEqual(truths[0].two.captions);
    for (const { one, two } of truths) {
      expect(two.events).toEqual(one.events);
      expect(two.transcript).toEqual(one.transcript);
      expect(two.captions.map((c) => [c.video, c.start, c.end])).toEqual(one.captions.map((c) => [c.video, c.start, c.end]));
      expect(two.captions.every((c, i) => c.caption !== one.captions[i].caption)).toBe(true);
    }
  });

  it('version 3 is version 2 without the match minute, clip for clip', () => {
    for (const seed of seeds.slice(0, 3)) {
      const two = simulateTruth(seed, 600, { captionVersion: 2 }).captions;
      const three = simulateTruth(seed, 600, { captionVersion: 3 }).captions;
      expect(three.map((c) => [c.start, c.end])).toEqual(two.map((c) => [c.start, c.end]));
      for (const [i, c] of three.entries()) {
        expect(c.caption).not.toMatch(/minute/);
        expect(c.caption).toBe(two[i].caption.replace(/, \d+\w\w(?:-\d+\w\w)? minute of the /, ', '));
      }
    }
  });

  it('tell the clip events in the order of the truth', () => {
    let told = 0;
    for (const { two } of truths) {
      for (const c of two.captions) {
        const inClip = two.events.filter((e) => e.t >= c.start && e.t < c.end && ['kickoff', 'shot', 'save', 'goal', 'throw_in', 'corner', 'goal_kick'].includes(e.type));
        const truth = inClip.map((e) => `${e.type} ${e.team}`);
        const said = toldEvents(c.caption);
        told += said.length;
        expect(isSubsequence(said, truth), `${c.caption}\ntruth: ${truth.join(', ')}`).toBe(true);
        // Every goal is told (goals outrank everything else).
        expect(said.filter((s) => s.startsWith('goal ')).length).toBe(inClip.filter((e) => e.type === 'goal').length);
      }
    }
    expect(told).toBeGreaterThan(200);
  });

  it('state goal memory facts that agree with the match so far', () => {
    let equalisers = 0;
    let seconds = 0;
    for (const { two } of truths) {
      const tally = new Map<string, number>();
      for (const e of two.events.filter((x) => x.type === 'goal')) {
        const n = (tally.get(`${e.team}:${e.player}`) ?? 0) + 1;
        tally.set(`${e.team}:${e.player}`, n);
        const c = two.captions.find((x) => e.t >= x.start && e.t < x.end)!;
        const phrase = new RegExp(`${e.team} score [a-z -]+?( from (the|an earlier) corner)? \\(${e.score[0]}-${e.score[1]}\\)`).exec(c.caption);
        expect(phrase, c.caption).not.toBeNull();
        const level = e.score[0] === e.score[1];
        expect(phrase![0].includes('the equaliser')).toBe(level);
        equalisers += level ? 1 : 0;
        expect(c.caption.includes(`number ${e.player}'s second goal`)).toBe(n === 2);
        seconds += n === 2 ? 1 : 0;
      }
    }
    expect(equalisers).toBeGreaterThan(0);
    expect(seconds).toBeGreaterThan(0);
  });
});
