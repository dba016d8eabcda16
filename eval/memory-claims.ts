/**
 * Reads the facts only memory gives back out of a commentary line (world 2's templates in
 * src/synth/memory-lines.ts, plus the score wherever a line states it: "Red lead 2-1", "level at 1-1",
 * "still goalless", "Red 2-1 Blue" at half and full time), and checks one against the truth of a second.
 * Every template round-trips through this parser (test/eval/memory-claims.test.ts), so a new phrasing that
 * the parser cannot read fails a test instead of silently counting as "not said".
 */
import type { FactKind, MemoryFacts } from '../src/synth/index.js';
import { ANY_TEAM_RE, teamName } from './event-parser.js';

export type MemoryClaim =
  /** The score; `leader` undefined when level. */
  | { kind: 'score'; leader?: string; high: number; low: number }
  /** "His 2nd of the match": the latest scorer's goals so far. */
  | { kind: 'tally'; goals: number }
  | { kind: 'sinceGoal'; minutes: number }
  | { kind: 'shots'; team: string; shots: number }
  | { kind: 'opener'; team: string; minute: number };

const T = `(${ANY_TEAM_RE})`;
const ORD = '(\\d+)(?:st|nd|rd|th)';

/** Each pattern with how a match becomes a claim; run globally so a line can state several facts. */
const PATTERNS: Array<{ re: RegExp; claim(m: RegExpExecArray): MemoryClaim | undefined }> = [
  { re: new RegExp(`\\b${T} lead (\\d+)-(\\d+)`, 'gi'), claim: (m) => ({ kind: 'score', leader: teamName(m[1]), high: +m[2], low: +m[3] }) },
  { re: /\blevel at (\d+)-(\d+)/gi, claim: (m) => ({ kind: 'score', high: +m[1], low: +m[2] }) },
  { re: /\bstill goalless\b/gi, claim: () => ({ kind: 'score', high: 0, low: 0 }) },
  {
    // Half-time and full-time lines: "Red 2-1 Blue".
    re: new RegExp(`\\b${T} (\\d+)-(\\d+) ${T}\\b`, 'gi'),
    claim: (m) => {
      const [a, b] = [+m[2], +m[3]];
      return a === b ? { kind: 'score', high: a, low: b } : { kind: 'score', leader: teamName(a > b ? m[1] : m[4]), high: Math.max(a, b), low: Math.min(a, b) };
    },
  },
  { re: new RegExp(`\\bHis ${ORD} of the match\\b`, 'gi'), claim: (m) => ({ kind: 'tally', goals: +m[1] }) },
  { re: /\b(\d+) minutes? since the last goal\b/gi, claim: (m) => ({ kind: 'sinceGoal', minutes: +m[1] }) },
  { re: new RegExp(`\\b${T}'s ${ORD} shot\\b`, 'gi'), claim: (m) => ({ kind: 'shots', team: teamName(m[1])!, shots: +m[2] }) },
  { re: new RegExp(`\\b${T} opened the scoring in the ${ORD} minute\\b`, 'gi'), claim: (m) => ({ kind: 'opener', team: teamName(m[1])!, minute: +m[2] }) },
];

/** Every memory fact a line states, in no particular order. */
export function parseMemoryClaims(text: string): MemoryClaim[] {
  const out: MemoryClaim[] = [];
  for (const { re, claim } of PATTERNS) {
    re.lastIndex = 0;
    for (let m = re.exec(text); m; m = re.exec(text)) {
      const c = claim(m);
      if (c) out.push(c);
    }
  }
  return out;
}

/** Whether a claim is true of the facts at one second. */
export function claimHolds(c: MemoryClaim, f: MemoryFacts, teams: readonly [string, string]): boolean {
  switch (c.kind) {
    case 'score': {
      const [a, b] = f.score;
      if (c.leader === undefined) return a === b && c.high === a && c.low === b;
      const i = teams.indexOf(c.leader);
      if (i < 0) return false;
      const [mine, theirs] = i === 0 ? [a, b] : [b, a];
      return mine > theirs && c.high === mine && c.low === theirs;
    }
    case 'tally':
      return f.lastGoal !== null && f.lastGoal.tally === c.goals;
    case 'sinceGoal':
      return f.minutesSinceGoal === c.minutes;
    case 'shots': {
      const i = teams.indexOf(c.team);
      return i >= 0 && f.shots[i] === c.shots;
    }
    case 'opener':
      return f.opener !== null && f.opener.team === c.team && f.opener.minute === c.minute;
  }
}

export const kindsOf = (claims: readonly MemoryClaim[]): Set<FactKind> => new Set(claims.map((c) => c.kind));
