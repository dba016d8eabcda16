/** Plain data that crosses the synth module boundary: events, per-second truth and clip captions. */

export type EventType =
  | 'kickoff'
  | 'pass'
  | 'dribble'
  | 'tackle'
  | 'interception'
  | 'shot'
  | 'save'
  | 'goal'
  | 'throw_in'
  | 'corner'
  | 'goal_kick'
  | 'half_time'
  | 'full_time';

/**
 * One thing that happened, written as one JSON line of structured truth. `team` is the acting team's
 * name (a visible kit colour); for ball-out events (throw_in, corner, goal_kick) it is the team awarded
 * the restart, `player` the one who will take it and `other` who last touched the ball.
 */
export interface MatchEvent {
  /** Video time in seconds (world-tick resolution, 0.04 s). */
  t: number;
  /** floor(t): the transcript second this event belongs to. */
  second: number;
  type: EventType;
  team: string;
  /** 0 or 1: index into the match's teams. */
  teamIndex: number;
  /** Shirt number of the main actor. */
  player: number;
  /** Shirt number of the other actor where there is one (pass receiver, player dispossessed). */
  other?: number;
  /** Pitch position in metres (x along, y across). */
  x: number;
  y: number;
  /** Kind of action: short/long/cross/header/... */
  detail?: string;
  /** How it ended: complete/intercepted/goal/saved/wide/blocked/held/parried/... */
  outcome?: string;
  /** Score after the event, [team 0, team 1]. */
  score: [number, number];
  /** Match minute shown on the clock (1-based). */
  minute: number;
  /** 0 = first half, 1 = second half. */
  half: number;
}

/**
 * Which version of the world to render. 1 (the default, every result before issue 22): the scoreboard is
 * always on screen and the commentary says what the picture shows. 2: the scoreboard shows only at times
 * and the commentary also states facts only memory gives (src/synth/memory-lines.ts).
 */
export type WorldVersion = 1 | 2;
export const WORLD_VERSIONS: readonly WorldVersion[] = [1, 2];

/**
 * Which clip captions to write (independent of the world version). 1 (the default, every retrieval result
 * before issue 22): src/synth/captions.ts. 2: the clip told in order (events, where the play went, who had
 * the ball) with memory facts about goals (src/synth/captions-v2.ts), so that telling clips apart needs order.
 * 3: version 2 without the match minute ("Red vs Blue, Red 1-0 Blue, first half: ..."), as a user's search
 * query reads: nobody searching a library knows the clock, and without it many more clips differ only by order.
 */
export type CaptionVersion = 1 | 2 | 3;
export const CAPTION_VERSIONS: readonly CaptionVersion[] = [1, 2, 3];

/** One transcript row: [startSec, endSec, text]; " ..." is silence. */
export type TranscriptRow = [number, number, string];

export interface ClipCaption {
  video: string;
  start: number;
  end: number;
  caption: string;
}
