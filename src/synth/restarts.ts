import type { Rng } from './rng.js';
import { FORMATION, PITCH, attackDir, clamp, goalXAttacked, toWorld } from './pitch.js';
import type { PlayerState } from './state.js';

export type RestartType = 'kickoff' | 'throw_in' | 'corner' | 'goal_kick';

/** A dead ball waiting to be played: who takes it, where, and when. */
export interface Restart {
  type: RestartType;
  team: number;
  taker: number;
  x: number;
  y: number;
  /** The ball is placed on the spot from this tick (before that it lies where it went out). */
  placeStep: number;
  readyStep: number;
}

/**
 * The laws for a ball that left the pitch at (x, y), last touched by `lastTeam`: over a touchline a
 * throw-in to the other team; over a goal line a corner if the defenders touched it last, else a goal kick.
 */
export function restartForOut(rng: Rng, x: number, y: number, lastTeam: number, period: number): { type: RestartType; team: number; x: number; y: number } {
  if (x >= 0 && x <= PITCH.lengthM) return { type: 'throw_in', team: 1 - lastTeam, x: clamp(x, 0, PITCH.lengthM), y: clamp(y, 0, PITCH.widthM) };
  const endX = x < 0 ? 0 : PITCH.lengthM;
  const defending = goalXAttacked(0, period) === endX ? 1 : 0;
  if (lastTeam === defending) {
    return {
      type: 'corner',
      team: 1 - defending,
      x: endX === 0 ? 0.5 : PITCH.lengthM - 0.5,
      y: y < PITCH.widthM / 2 ? 0.5 : PITCH.widthM - 0.5,
    };
  }
  return { type: 'goal_kick', team: defending, x: endX === 0 ? 5 : PITCH.lengthM - 5, y: PITCH.widthM / 2 + rng.range(-4, 4) };
}

/** Where a player stands for a kickoff: own half, formation shape. */
export function kickoffSpot(p: PlayerState, period: number): { x: number; y: number } {
  const slot = FORMATION[p.slot];
  return toWorld(Math.min(slot.u, 0.45), slot.v, attackDir(p.team, period));
}

export function nearestPlayer(players: readonly PlayerState[], team: number, x: number, y: number, outfield: boolean): number {
  let best = -1;
  let bestD = Infinity;
  for (let i = 0; i < players.length; i++) {
    const p = players[i];
    if (p.team !== team || (outfield && p.keeper)) continue;
    const d = Math.hypot(p.x - x, p.y - y);
    if (d < bestD) {
      bestD = d;
      best = i;
    }
  }
  return best;
}
