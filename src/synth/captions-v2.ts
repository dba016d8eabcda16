import { article, pitchZone, type Captioner, type SecondSummary } from './captions.js';
import { halfName, ordinal } from './phrases.js';
import type { ClipCaption, EventType, MatchEvent } from './types.js';

/**
 * Version-2 clip captions: the clip told as one timeline, so that clips of the same match and minute
 * (same teams, score, minute and half) differ by the order things happened in, not only by what happened:
 *
 *   "Red vs Blue, Red 1-0 Blue, 12th minute of the first half: Red on the ball in midfield, then play moves
 *    to the left end, then Blue on the ball, finally a throw-in to Red."
 *
 * Version 1 (captions.ts) named a set of events (with shirt numbers, which the picture does not show), one
 * mean position and one team in possession: clips were told apart without order, so a model that ignores
 * frame order lost nothing (docs/retrieval-model.md, "Caption versions"). Here the within-clip content is
 * a sequence over a small alphabet (who has the ball, which third of the pitch, the restarts and chances),
 * so the same beats in another order occur in the data ("Blue on the ball, then play moves to the left end"
 * against "play moves to the left end, then Blue on the ball"). Goals carry memory facts: the opener, the
 * equaliser, the go-ahead goal, a scorer's second goal and the corner a goal came from.
 */

/** One thing the timeline tells, at video time `t` (seconds). */
export interface Beat {
  t: number;
  kind: 'event' | 'possession' | 'zone';
  text: string;
}

/** A clip's caption before wording. */
export interface ClipStory {
  /** Teams, score, minute (version 2 only) and half: what neighbouring clips share. */
  setting: string;
  /** Who had the ball (null: nobody) and where, at the start. */
  start: { team: string | null; zone: string };
  /** What changed and happened after the start, in time order. */
  beats: Beat[];
}

/** Events a broadcast viewer can tell apart at retrieval resolution; the rest show as possession changes. */
const TOLD: ReadonlySet<EventType> = new Set<EventType>(['kickoff', 'shot', 'save', 'goal', 'throw_in', 'corner', 'goal_kick', 'half_time', 'full_time']);
/** Which beats stay when there are too many (ties: earlier first). */
const RANK: Partial<Record<EventType, number>> = { goal: 9, half_time: 9, full_time: 9, save: 8, shot: 7, corner: 6, kickoff: 6 };
const STATE_RANK = 4;
/** At most this many beats: longer captions would be cut at the text tower's 96 tokens. */
export const MAX_BEATS = 6;
/** A run shorter than this (seconds) of possession or pitch third is a blip, not a phase of play. */
export const MIN_RUN_SEC = 2;
/** A goal this soon after a corner to the scoring team, with nothing breaking the move, came from it. */
export const CORNER_GOAL_SEC = 20;

const ZONE_NAME = { left: 'the left end', middle: 'midfield', right: 'the right end' } as const;
const NTH = ['first', 'second', 'third', 'fourth', 'fifth'];
const nth = (n: number): string => NTH[n - 1] ?? ordinal(n);
const inOrAt = (zone: string): string => `${zone === 'midfield' ? 'in' : 'at'} ${zone}`;

/**
 * Phases of play from per-second values: runs shorter than `minRun` seconds dropped, then neighbours with
 * the same value merged; each phase with the index of the second it starts at. `undefined` (no information
 * that second, e.g. the ball in the air) is skipped: a run goes on across it. When every run is a blip the longest stands (earliest on a tie).
 *   [R, R, B, R, R, R] -> [R@0]   [R, R, B, B, B] -> [R@0, B@2]
 */
export function phases<T>(values: readonly (T | undefined)[], minRun = MIN_RUN_SEC): { value: T; at: number }[] {
  const runs: { value: T; at: number; n: number }[] = [];
  values.forEach((value, at) => {
    if (value === undefined) return;
    const last = runs[runs.length - 1];
    if (last && last.value === value) last.n++;
    else runs.push({ value, at, n: 1 });
  });
  let kept = runs.filter((r) => r.n >= minRun);
  if (kept.length === 0 && runs.length > 0) kept = [runs.reduce((a, b) => (b.n > a.n ? b : a))];
  return kept.filter((r, i) => i === 0 || r.value !== kept[i - 1].value).map(({ value, at }) => ({ value, at }));
}

/** "A", "A, then B", "A, then B, then C, finally D": the order words of every version-2 caption. */
export function inOrder(parts: readonly string[]): string {
  return parts.map((p, i) => (i === 0 ? p : i === parts.length - 1 && i >= 2 ? `finally ${p}` : `then ${p}`)).join(', ');
}

/** The wording of a story. */
export function tellStory(s: ClipStory): string {
  const who = s.start.team ?? 'nobody';
  const opening = s.beats.length === 0 ? `${s.start.team ? `${who} keep the ball` : 'nobody on the ball'} ${inOrAt(s.start.zone)}` : `${who} on the ball ${inOrAt(s.start.zone)}`;
  return `${s.setting}: ${inOrder([opening, ...s.beats.map((b) => b.text)])}.`;
}

/** What a goal means for the match, from the score after it and who scored. */
function goalSituation(e: MatchEvent): string {
  const mine = e.score[e.teamIndex];
  const theirs = e.score[1 - e.teamIndex];
  if (mine === 1 && theirs === 0) return 'the opener';
  if (mine === theirs) return 'the equaliser';
  if (mine === theirs + 1) return 'the go-ahead goal';
  if (mine < theirs) return 'a goal back';
  return 'another goal';
}

/**
 * Stateful because a goal is told with what came before it: the corner it came from may lie in an earlier
 * clip. One per match (MatchTimeline holds it); it must see every clip of the match, in order.
 */
export class OrderedCaptioner implements Captioner {
  /** Whether the setting names the match minute (version 2) or only the half (version 3). */
  private readonly clock: boolean;
  /** The latest corner whose move is still alive: its team and time. */
  private corner: { teamIndex: number; t: number } | undefined;

  constructor(options: { clock?: boolean } = {}) {
    this.clock = options.clock ?? true;
  }

  caption(video: string, startSec: number, endSec: number, seconds: readonly SecondSummary[], names: readonly [string, string]): ClipCaption {
    return { video, start: startSec, end: endSec, caption: tellStory(this.story(seconds, names)) };
  }

  /** The clip's story; advances the memory of corners through every event of the clip. */
  story(seconds: readonly SecondSummary[], names: readonly [string, string]): ClipStory {
    const first = seconds[0];
    const last = seconds[seconds.length - 1];
    const clipStart = first.facts.second;
    const ranked: { beat: Beat; rank: number }[] = [];
    for (const s of seconds) {
      for (const e of s.events) {
        const corner = this.corner;
        this.remember(e);
        if (!TOLD.has(e.type)) continue;
        const text = e.type === 'goal' ? this.goalText(e, s, corner, clipStart) : describe(e);
        ranked.push({ beat: { t: e.t, kind: 'event', text }, rank: RANK[e.type] ?? 1 });
      }
    }
    const zones = phases(seconds.map((s) => ZONE_NAME[pitchZone(s.ballX)]));
    const teams = phases(seconds.map((s) => (s.possession >= 0 ? names[s.possession] : undefined)));
    // A state change counts from the middle of the second its phase starts in (its per-second majority).
    zones.slice(1).forEach((z, i) => {
      const back = zones.slice(0, i + 1).some((p) => p.value === z.value);
      ranked.push({ beat: { t: clipStart + z.at + 0.5, kind: 'zone', text: `play moves ${back ? 'back ' : ''}to ${z.value}` }, rank: STATE_RANK });
    });
    teams.slice(1).forEach((p, i) => {
      const back = teams.slice(0, i + 1).some((q) => q.value === p.value);
      ranked.push({ beat: { t: clipStart + p.at + 0.5, kind: 'possession', text: `${p.value} ${back ? 'back ' : ''}on the ball` }, rank: STATE_RANK });
    });
    const kept = ranked
      .map((r, i) => ({ ...r, i }))
      .sort((a, b) => b.rank - a.rank || a.beat.t - b.beat.t || a.i - b.i)
      .slice(0, MAX_BEATS)
      .sort((a, b) => a.beat.t - b.beat.t || a.i - b.i)
      .map((r) => r.beat);
    const beats = kept.filter((b, i) => i === 0 || b.text !== kept[i - 1].text);
    const minutes = first.minute === last.minute ? `${ordinal(last.minute)} minute` : `${ordinal(first.minute)}-${ordinal(last.minute)} minute`;
    const when = this.clock ? `${minutes} of the ${halfName(last.half)}` : halfName(last.half);
    const setting = `${names[0]} vs ${names[1]}, ${names[0]} ${last.score[0]}-${last.score[1]} ${names[1]}, ${when}`;
    const start = { team: teams[0]?.value ?? null, zone: zones[0].value };
    return { setting, start, beats };
  }

  /** Keeps or breaks the move a corner started. */
  private remember(e: MatchEvent): void {
    const c = this.corner;
    if (e.type === 'corner') this.corner = { teamIndex: e.teamIndex, t: e.t };
    else if (!c) return;
    else if (e.type === 'goal' || e.type === 'throw_in' || e.type === 'goal_kick' || e.type === 'kickoff' || e.type === 'half_time' || e.type === 'full_time') this.corner = undefined;
    else if (e.teamIndex !== c.teamIndex && (e.type === 'tackle' || e.type === 'interception' || (e.type === 'save' && e.outcome !== 'parried'))) this.corner = undefined;
  }

  /** "Red score the equaliser from the corner (1-1), number 9's second goal": what memory adds to a goal. */
  private goalText(e: MatchEvent, s: SecondSummary, corner: { teamIndex: number; t: number } | undefined, clipStart: number): string {
    const fromCorner = corner !== undefined && corner.teamIndex === e.teamIndex && e.t - corner.t <= CORNER_GOAL_SEC;
    // In this clip the corner is told before the goal (order); from an earlier clip only memory knows it.
    const from = !fromCorner ? '' : corner.t >= clipStart ? ' from the corner' : ' from an earlier corner';
    const g = s.facts.lastGoal;
    const tally = g && g.second === e.second && g.player === e.player && g.team === e.team ? g.tally : 1;
    const scorer = tally >= 2 ? `, number ${e.player}'s ${nth(tally)} goal` : '';
    return `${e.team} score ${goalSituation(e)}${from} (${e.score[0]}-${e.score[1]})${scorer}`;
  }
}

function describe(e: MatchEvent): string {
  const a = `${article(e.team)} ${e.team}`;
  switch (e.type) {
    case 'kickoff': return `${e.team} kick off`;
    case 'shot': return e.detail === 'header' ? `${a} header` : e.detail === 'long range' ? `${a} shot from distance` : `${a} shot`;
    case 'save': return `the ${e.team} keeper ${e.outcome === 'parried' ? 'parries' : 'saves'}`;
    case 'throw_in': return `a throw-in to ${e.team}`;
    case 'corner': return `a corner to ${e.team}`;
    case 'goal_kick': return `a goal kick to ${e.team}`;
    case 'half_time': return 'the half-time whistle';
    case 'full_time': return 'the final whistle';
    default: return `${a} ${e.type}`;
  }
}
