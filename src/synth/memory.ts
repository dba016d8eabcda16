import type { MatchEvent } from './types.js';

/**
 * What a commentator who has watched the whole match knows at the end of a second, and a picture alone
 * does not show (in world 2 the scoreboard is mostly hidden). Written per second as structured truth
 * (`--facts`) and checked by the memory-fact metric (eval/memory-metrics.ts).
 */
export interface MemoryFacts {
  second: number;
  /** Score after the events of this second, [team 0, team 1]. */
  score: [number, number];
  /** The team in front, or null when level. */
  leader: string | null;
  /** The latest goal of this match and its scorer's goals so far (tally 2: "his 2nd of the match"). */
  lastGoal: { team: string; player: number; second: number; minute: number; tally: number } | null;
  /** Whole minutes of play since the latest goal (video seconds / 60, floored); null before the first. */
  minutesSinceGoal: number | null;
  /** Shots so far this match (goals were shots first), [team 0, team 1]. */
  shots: [number, number];
  /** The first goal of this match: the callback "Red opened the scoring in the 12th minute". */
  opener: { team: string; player: number; minute: number } | null;
  /** Whether the scoreboard was on screen at any instant of this second (always in world 1). */
  scoreboard: boolean;
}

/**
 * Folds a match's events second by second into MemoryFacts. One match at a time: the first event after
 * full time (the next match's kick-off) starts a fresh memory, as the score resets then. The same code
 * feeds the world's commentary and the evaluation (which rebuilds facts from the events file), so the
 * two cannot disagree.
 */
export class MatchMemory {
  private score: [number, number];
  private shots: [number, number] = [0, 0];
  private tallies = new Map<string, number>();
  private lastGoal: MemoryFacts['lastGoal'] = null;
  private opener: MemoryFacts['opener'] = null;
  private ended = false;

  constructor(private readonly teams: readonly [string, string], startScore: readonly [number, number] = [0, 0]) {
    this.score = [startScore[0], startScore[1]];
  }

  /** The events of `second` (in time order); returns the facts at its end. */
  observe(second: number, events: readonly MatchEvent[], scoreboard = true): MemoryFacts {
    for (const e of events) {
      if (this.ended) this.reset();
      this.score = [e.score[0], e.score[1]];
      if (e.type === 'shot') this.shots[e.teamIndex]++;
      if (e.type === 'goal') {
        const key = `${e.teamIndex}:${e.player}`;
        const tally = (this.tallies.get(key) ?? 0) + 1;
        this.tallies.set(key, tally);
        this.lastGoal = { team: e.team, player: e.player, second: e.second, minute: e.minute, tally };
        this.opener ??= { team: e.team, player: e.player, minute: e.minute };
      }
      if (e.type === 'full_time') this.ended = true;
    }
    const [a, b] = this.score;
    return {
      second,
      score: [a, b],
      leader: a === b ? null : this.teams[a > b ? 0 : 1],
      lastGoal: this.lastGoal && { ...this.lastGoal },
      minutesSinceGoal: this.lastGoal ? Math.floor((second - this.lastGoal.second) / 60) : null,
      shots: [this.shots[0], this.shots[1]],
      opener: this.opener && { ...this.opener },
      scoreboard,
    };
  }

  private reset(): void {
    this.shots = [0, 0];
    this.tallies.clear();
    this.lastGoal = null;
    this.opener = null;
    this.ended = false;
  }
}

/**
 * Facts for seconds [0, seconds) from an events file alone (the evaluation's path; the scoreboard flag is
 * not in the events and is left true). `startScore`: the score before the first event (0-0 for held-out
 * matches).
 */
export function factsFromEvents(events: readonly MatchEvent[], teams: readonly [string, string], seconds: number, startScore: readonly [number, number] = [0, 0]): MemoryFacts[] {
  const bySecond = new Map<number, MatchEvent[]>();
  for (const e of events) bySecond.set(e.second, [...(bySecond.get(e.second) ?? []), e]);
  const memory = new MatchMemory(teams, startScore);
  return Array.from({ length: seconds }, (_, s) => memory.observe(s, bySecond.get(s) ?? []));
}
