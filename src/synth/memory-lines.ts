import { headlineEvent, PRIORITY, SILENCE } from './commentary.js';
import type { MemoryFacts } from './memory.js';
import { ordinal, scoreLine } from './phrases.js';
import { Rng } from './rng.js';
import type { MatchEvent } from './types.js';

/** The kinds of fact only memory gives (world 2); the metric reports each. */
export type FactKind = 'score' | 'tally' | 'sinceGoal' | 'shots' | 'opener';
export const FACT_KINDS: readonly FactKind[] = ['score', 'tally', 'sinceGoal', 'shots', 'opener'];

const cap = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/**
 * One short templated sentence per kind, so a metric can read the model's lines back (eval/memory-claims.ts;
 * its test round-trips every template). Short, because a second's line is capped at 32 tokens at inference.
 */
export const MEMORY_TEMPLATES = {
  /** "Red lead 2-1." / "Level at 1-1." / "Still goalless." */
  score: (teams: readonly [string, string], score: readonly [number, number]) => `${cap(scoreLine(teams, score))}.`,
  /** After a goal line: the scorer's goals in this match. */
  tally: (goals: number) => `His ${ordinal(goals)} of the match.`,
  sinceGoal: (minutes: number) => `${minutes} minute${minutes === 1 ? '' : 's'} since the last goal.`,
  /** After a shot line: that team's shots so far, this one included. */
  shots: (team: string, shots: number) => `${team}'s ${ordinal(shots)} shot.`,
  /** A callback to the first goal of the match. */
  opener: (team: string, minute: number) => `${team} opened the scoring in the ${ordinal(minute)} minute.`,
} as const;

/** Share of shot lines that count the shots, and of other voiced lines that add a memory fact. */
const SHOTS_SHARE = 0.5;
const RECALL_SHARE = 0.3;

/**
 * World 2's commentary: the world-1 line of a second plus, at times, one sentence that only memory gives.
 * A goal line always carries the scorer's tally; a shot line often counts the team's shots; other voiced
 * lines sometimes recall the score, the minutes since the last goal or who opened the scoring. Silence
 * stays silence (whether a second is voiced still follows from the picture). Its own seeded stream, two
 * draws a second, so world 1's wording and the match are untouched.
 */
export class MemoryCommentator {
  private readonly rng: Rng;

  constructor(seed: number, private readonly teams: readonly [string, string]) {
    this.rng = Rng.derive(seed, 'memory-lines');
  }

  extend(line: string, events: readonly MatchEvent[], facts: MemoryFacts): string {
    const roll = this.rng.next();
    const pick = this.rng.next();
    const top = headlineEvent(events);
    if (line === SILENCE || !top) return line;
    const tail = this.tail(top, facts, line, roll, pick);
    return tail ? `${line} ${tail}` : line;
  }

  private tail(top: MatchEvent, f: MemoryFacts, line: string, roll: number, pick: number): string | undefined {
    if (top.type === 'goal') return f.lastGoal ? MEMORY_TEMPLATES.tally(f.lastGoal.tally) : undefined;
    if (top.type === 'shot') return roll < SHOTS_SHARE ? MEMORY_TEMPLATES.shots(top.team, f.shots[top.teamIndex]) : undefined;
    if (PRIORITY[top.type] < 3 || top.type === 'half_time' || top.type === 'full_time' || roll >= RECALL_SHARE) return undefined;
    // World 1 sometimes adds the score and minute already: one added sentence a line at most, so a line
    // stays within the 32 tokens a second's answer may take at inference.
    if (/ lead \d|level at|goalless/i.test(line)) return undefined;
    const options: string[] = [MEMORY_TEMPLATES.score(this.teams, f.score)];
    if (f.minutesSinceGoal !== null && f.minutesSinceGoal >= 1) options.push(MEMORY_TEMPLATES.sinceGoal(f.minutesSinceGoal));
    if (f.opener) options.push(MEMORY_TEMPLATES.opener(f.opener.team, f.opener.minute));
    return options.length ? options[Math.floor(pick * options.length)] : undefined;
  }
}
