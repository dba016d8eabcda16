import type { Rng } from './rng.js';
import { PITCH, attackDir, clamp, goalXAttacked } from './pitch.js';
import { nearestPlayer } from './restarts.js';
import type { PlayerState } from './state.js';

export type CarrierAction =
  | { kind: 'shoot' }
  | { kind: 'dribble'; durSec: number; toX: number; toY: number; past: number }
  | { kind: 'pass'; pass: 'short' | 'long' };

/**
 * What the player on the ball does when his decision time comes: shoot when close enough (more
 * often the closer), otherwise dribble (never twice in a row) or pass; a calm team keeps it short.
 */
export function decideCarrier(rng: Rng, players: readonly PlayerState[], c: number, period: number, calm: boolean, justDribbled: boolean): CarrierAction {
  const p = players[c];
  const dir = attackDir(p.team, period);
  const distGoal = Math.hypot(goalXAttacked(p.team, period) - p.x, PITCH.widthM / 2 - p.y);
  const r = rng.next();
  if (!p.keeper && !calm && ((distGoal < 16 && r < 0.8) || (distGoal < 24 && r < 0.45) || (distGoal < 32 && r < 0.1))) {
    return { kind: 'shoot' };
  }
  if (!p.keeper && !justDribbled && rng.chance(calm ? 0.12 : 0.3)) {
    const opp = nearestPlayer(players, 1 - p.team, p.x, p.y, false);
    const past = Math.hypot(players[opp].x - p.x, players[opp].y - p.y) < 5 ? opp : -1;
    return {
      kind: 'dribble',
      durSec: rng.range(1.2, 3),
      toX: clamp(p.x + dir * rng.range(8, 16), 2, PITCH.lengthM - 2),
      toY: clamp(p.y + rng.normal(6), 2, PITCH.widthM - 2),
      past,
    };
  }
  return { kind: 'pass', pass: p.keeper ? (calm ? 'short' : 'long') : !calm && rng.chance(0.2) ? 'long' : 'short' };
}

/** An opponent at the carrier's feet who wins the ball this tick, or -1. Calm spells see few tackles. */
export function findTackler(rng: Rng, players: readonly PlayerState[], c: number, calm: boolean): number {
  const p = players[c];
  for (let i = 0; i < players.length; i++) {
    const o = players[i];
    if (o.team === p.team || Math.hypot(o.x - p.x, o.y - p.y) > 1.4) continue;
    if (rng.chance(calm ? 0.008 : o.keeper ? 0.15 : 0.04)) return i;
  }
  return -1;
}
