import { PITCH } from './pitch.js';
import { halfName, ordinal } from './phrases.js';
import type { MemoryFacts } from './memory.js';
import type { ClipCaption, EventType, MatchEvent } from './types.js';

/** What one second contributes to its clip's caption. */
export interface SecondSummary {
  events: readonly MatchEvent[];
  /** Mean ball x in metres over the second. */
  ballX: number;
  /** Team holding the ball for most of the second, -1 if nobody. */
  possession: number;
  score: readonly [number, number];
  /** Match minute (1-based) and half at the end of the second. */
  minute: number;
  half: number;
  /** What memory knows at the end of the second (version-2 captions name a scorer's tally). */
  facts: MemoryFacts;
}

/** Writes one caption per clip; a version may keep state from clip to clip (memory), so one per match. */
export interface Captioner {
  caption(video: string, startSec: number, endSec: number, seconds: readonly SecondSummary[], names: readonly [string, string]): ClipCaption;
}

/** Version 1: stateless, each clip on its own. */
export const captionerV1: Captioner = { caption: (video, startSec, endSec, seconds, names) => captionFor(video, startSec, endSec, seconds, names) };

const KEY: ReadonlySet<EventType> = new Set<EventType>([
  'kickoff', 'dribble', 'tackle', 'interception', 'shot', 'save', 'goal', 'throw_in', 'corner', 'goal_kick', 'half_time', 'full_time',
]);

function describe(e: MatchEvent, names: readonly [string, string]): string {
  const opp = names[1 - e.teamIndex];
  switch (e.type) {
    case 'kickoff': return `${e.team} kick off`;
    case 'dribble': return e.detail === 'past' ? `${e.team} number ${e.player} dribbles past ${article(opp)} ${opp} defender` : `${e.team} number ${e.player} runs with the ball`;
    case 'tackle': return `${e.team} number ${e.player} tackles`;
    case 'interception': return e.detail === 'blocked shot' ? `${e.team} block a shot` : `${e.team} intercept`;
    case 'shot': return `${e.team} number ${e.player} ${e.detail === 'header' ? 'heads at goal' : e.detail === 'long range' ? 'shoots from distance' : 'shoots'}`;
    case 'save': return `the ${e.team} keeper ${e.outcome === 'parried' ? 'parries' : 'saves'}`;
    case 'goal': return `${e.team} score (${e.score[0]}-${e.score[1]})`;
    case 'throw_in': return `throw-in to ${e.team}`;
    case 'corner': return `corner to ${e.team}`;
    case 'goal_kick': return `goal kick to ${e.team}`;
    case 'half_time': return 'the half-time whistle';
    case 'full_time': return 'the final whistle';
    default: return `${e.team} pass`;
  }
}

export function article(word: string): string {
  return /^[AEIOU]/.test(word) ? 'an' : 'a';
}

/** Drops immediate repeats ("dribbles, then dribbles") so the sentence stays short. */
function dedupe(parts: readonly string[]): string[] {
  return parts.filter((p, i) => i === 0 || p !== parts[i - 1]);
}

/** Third of the pitch as the broadcast shows it: the camera looks at the pitch from the near touchline. */
export function pitchZone(meanX: number): 'left' | 'middle' | 'right' {
  if (meanX < PITCH.lengthM * 0.3) return 'left';
  if (meanX > PITCH.lengthM * 0.7) return 'right';
  return 'middle';
}

function whereOnPitch(meanX: number): string {
  const zone = pitchZone(meanX);
  return zone === 'middle' ? 'in midfield' : `at the ${zone} end`;
}

/**
 * One caption sentence per clip, for retrieval. It must tell clips apart, so it names the teams (kit
 * colours), the score, the minute and half, the key events in order and where the play was.
 */
export function captionFor(video: string, startSec: number, endSec: number, seconds: readonly SecondSummary[], names: readonly [string, string]): ClipCaption {
  const last = seconds[seconds.length - 1];
  const first = seconds[0];
  const events = seconds.flatMap((s) => s.events).filter((e) => KEY.has(e.type));
  const passes = seconds.reduce((n, s) => n + s.events.filter((e) => e.type === 'pass').length, 0);
  const held = [0, 0];
  let sumX = 0;
  for (const s of seconds) {
    sumX += s.ballX;
    if (s.possession >= 0) held[s.possession]++;
  }
  const keep = dedupe(pickImportant(events, 5).map((e) => describe(e, names)));
  const minutes = first.minute === last.minute ? `${ordinal(last.minute)} minute` : `${ordinal(first.minute)}-${ordinal(last.minute)} minute`;
  const score = `${names[0]} ${last.score[0]}-${last.score[1]} ${names[1]}`;
  const possession = held[0] === held[1] ? 'possession shared' : `${names[held[0] > held[1] ? 0 : 1]} in possession`;
  const action = keep.length > 0 ? keep.join(', then ') : `${passes > 0 ? `${passes} passes` : 'the ball is worked around'}, no clear chance`;
  const caption = `${names[0]} vs ${names[1]}, ${score}, ${minutes} of the ${halfName(last.half)}: ${action}; play ${whereOnPitch(sumX / seconds.length)}, ${possession}.`;
  return { video, start: startSec, end: endSec, caption };
}

const RANK: Partial<Record<EventType, number>> = { goal: 9, save: 8, shot: 7, corner: 6, kickoff: 6, half_time: 9, full_time: 9 };

/** Keeps the `n` most important events, still in time order. */
function pickImportant(events: readonly MatchEvent[], n: number): MatchEvent[] {
  const ranked = events.map((e, i) => ({ e, i, r: RANK[e.type] ?? 1 })).sort((a, b) => b.r - a.r || a.i - b.i);
  return ranked.slice(0, n).sort((a, b) => a.i - b.i).map((x) => x.e);
}
