import { WORLD_HZ } from './pitch.js';
import type { EventType, MatchEvent } from './types.js';

/** Everything an event records about the moment it happened. */
export interface EventMoment {
  stepIndex: number;
  clockSec: number;
  half: number;
  score: readonly [number, number];
  ballX: number;
  ballY: number;
}

/** One structured-truth record; times and positions are rounded so the JSON stays short and stable. */
export function buildEvent(
  type: EventType,
  team: { name: string; index: number },
  player: number,
  at: EventMoment,
  extra: Partial<MatchEvent> = {},
): MatchEvent {
  return {
    t: Math.round((at.stepIndex / WORLD_HZ) * 100) / 100,
    second: Math.floor(at.stepIndex / WORLD_HZ),
    type,
    team: team.name,
    teamIndex: team.index,
    player,
    x: Math.round(at.ballX * 10) / 10,
    y: Math.round(at.ballY * 10) / 10,
    ...extra,
    score: [at.score[0], at.score[1]],
    minute: Math.floor(at.clockSec / 60) + 1,
    half: at.half,
  };
}
