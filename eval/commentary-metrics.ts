/**
 * Per-second commentary metrics against the synthetic world's structured truth. Definitions (also in
 * docs/evaluation.md):
 * - A reference second is *voiced* when the reference transcript speaks; its headline event is the one
 *   the line describes. The model may speak up to one second later (its frames at s and s + 0.5 cannot
 *   show an event in the last half of second s), so a voiced event at second s is *recalled* when the
 *   model's line at s or s + 1 names the same event type and team.
 * - *Precision*: a spoken model line at second m is right when it names the type and team of an event
 *   worth saying at second m - 1 or m.
 * - *Silence accuracy*: over seconds with no event worth saying at s - 1 or s, the share the model left
 *   silent.
 * - *Goal recall*: recall over voiced goals only. *Score correctness*: of model lines that claim a score,
 *   the share that match the score on the board at that second.
 */
import { headlineEvent, isWorthSaying, SILENCE, type MatchEvent } from '../src/synth/index.js';
import { parseLine, parseScoreClaim } from './event-parser.js';

export interface Segment {
  start: number;
  text: string;
}

export interface CommentaryCounts {
  voiced: number;
  recalled: number;
  /** Voiced events whose type (typeNamed) or team (teamNamed) alone was named at s or s + 1: diagnostics. */
  typeNamed: number;
  teamNamed: number;
  spoken: number;
  spokenRight: number;
  quiet: number;
  quietKept: number;
  goals: number;
  goalsRecalled: number;
  scoreClaims: number;
  scoreClaimsRight: number;
}

export interface CommentaryMetrics {
  eventRecall: number;
  eventPrecision: number;
  silenceAccuracy: number;
  goalRecall: number;
  scoreCorrectness: number;
}

export const ZERO_COUNTS: CommentaryCounts = { voiced: 0, recalled: 0, typeNamed: 0, teamNamed: 0, spoken: 0, spokenRight: 0, quiet: 0, quietKept: 0, goals: 0, goalsRecalled: 0, scoreClaims: 0, scoreClaimsRight: 0 };

/** An empty line or the silence marker: the model (or the reference) said nothing that second. */
export const isSilent = (text: string): boolean => text.trim() === '' || text.trim() === SILENCE.trim();

/** How the voiced events of one kind fared: `unanswered` = no spoken line at s or s + 1 at all. */
export interface KindOutcome {
  voiced: number;
  recalled: number;
  typeNamed: number;
  teamNamed: number;
  unanswered: number;
}

/** Voiced events by headline kind (a pass adds its detail: "pass long"): where a model misses. */
export type OutcomesByKind = Record<string, KindOutcome>;

const kindOf = (e: MatchEvent): string => (e.type === 'pass' && e.detail ? `pass ${e.detail}` : e.type);

export function addOutcomes(into: OutcomesByKind, from: OutcomesByKind): OutcomesByKind {
  for (const [kind, o] of Object.entries(from)) {
    const t = (into[kind] ??= { voiced: 0, recalled: 0, typeNamed: 0, teamNamed: 0, unanswered: 0 });
    for (const k of Object.keys(o) as Array<keyof KindOutcome>) t[k] += o[k];
  }
  return into;
}

/**
 * Counts over seconds [fromSec, toSec) of one match; add counts across matches, then call `rates`.
 * `byKind`, when given, also receives each voiced event's outcome under its kind.
 */
export function countCommentary(events: MatchEvent[], reference: string[], model: Segment[], teams: readonly [string, string], fromSec = 0, toSec = reference.length, byKind?: OutcomesByKind): CommentaryCounts {
  const bySecond = new Map<number, MatchEvent[]>();
  for (const e of events) bySecond.set(e.second, [...(bySecond.get(e.second) ?? []), e]);
  const modelAt = new Map(model.map((s) => [Math.round(s.start), s.text]));
  const parsedAt = (s: number) => {
    const text = modelAt.get(s);
    return text === undefined || isSilent(text) ? undefined : parseLine(text);
  };
  const worthAt = (s: number) => (bySecond.get(s) ?? []).filter(isWorthSaying);
  const c: CommentaryCounts = { ...ZERO_COUNTS };
  for (let s = fromSec; s < toSec; s++) {
    if (!isSilent(reference[s] ?? SILENCE)) {
      const top = headlineEvent(bySecond.get(s) ?? []);
      if (top) {
        const near = [parsedAt(s), parsedAt(s + 1)].filter((p) => p !== undefined);
        const hit = near.some((p) => p.type === top.type && p.team === top.team);
        const typeNamed = near.some((p) => p.type === top.type);
        const teamNamed = near.some((p) => p.team === top.team);
        c.voiced++;
        if (hit) c.recalled++;
        if (typeNamed) c.typeNamed++;
        if (teamNamed) c.teamNamed++;
        if (byKind) {
          const outcome: KindOutcome = { voiced: 1, recalled: +hit, typeNamed: +typeNamed, teamNamed: +teamNamed, unanswered: +(near.length === 0) };
          addOutcomes(byKind, { [kindOf(top)]: outcome });
        }
        if (top.type === 'goal') {
          c.goals++;
          if (hit) c.goalsRecalled++;
        }
      }
    }
    const text = modelAt.get(s);
    const spoke = text !== undefined && !isSilent(text);
    if (spoke) {
      c.spoken++;
      const p = parsedAt(s);
      if (p && [...worthAt(s - 1), ...worthAt(s)].some((e) => e.type === p.type && e.team === p.team)) c.spokenRight++;
      const claim = parseScoreClaim(text);
      if (claim) {
        c.scoreClaims++;
        if (claimMatches(claim, scoreAt(events, s), teams)) c.scoreClaimsRight++;
      }
    }
    if (worthAt(s - 1).length === 0 && worthAt(s).length === 0) {
      c.quiet++;
      if (!spoke) c.quietKept++;
    }
  }
  return c;
}

/** The score on the board at the end of second s (each event carries the score after it). */
function scoreAt(events: MatchEvent[], s: number): readonly [number, number] {
  let score: readonly [number, number] = [0, 0];
  for (const e of events) {
    if (e.t >= s + 1) break;
    score = e.score;
  }
  return score;
}

function claimMatches(claim: NonNullable<ReturnType<typeof parseScoreClaim>>, score: readonly [number, number], teams: readonly [string, string]): boolean {
  const [a, b] = score;
  if (claim.leader === undefined) return a === b && claim.high === a && claim.low === b;
  const leaderIndex = teams.indexOf(claim.leader);
  if (leaderIndex < 0) return false;
  const mine = leaderIndex === 0 ? a : b;
  const theirs = leaderIndex === 0 ? b : a;
  return mine > theirs && claim.high === mine && claim.low === theirs;
}

export function addCounts(x: CommentaryCounts, y: CommentaryCounts): CommentaryCounts {
  const out = { ...x };
  for (const k of Object.keys(out) as Array<keyof CommentaryCounts>) out[k] += y[k];
  return out;
}

const ratio = (n: number, d: number): number => (d === 0 ? NaN : n / d);

export function rates(c: CommentaryCounts): CommentaryMetrics {
  return {
    eventRecall: ratio(c.recalled, c.voiced),
    eventPrecision: ratio(c.spokenRight, c.spoken),
    silenceAccuracy: ratio(c.quietKept, c.quiet),
    goalRecall: ratio(c.goalsRecalled, c.goals),
    scoreCorrectness: ratio(c.scoreClaimsRight, c.scoreClaims),
  };
}
