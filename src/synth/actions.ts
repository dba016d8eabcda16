import type { Rng } from './rng.js';
import { PITCH, clamp, goalXAttacked } from './pitch.js';
import type { PlayerState } from './state.js';

/** A ball in the air or rolling towards a point, decided at launch. */
export interface Flight {
  kind: 'pass' | 'shot' | 'cross';
  fromX: number;
  fromY: number;
  toX: number;
  toY: number;
  startStep: number;
  durSteps: number;
  peakZ: number;
  /** Who should get it at the end (-1: nobody, it runs out or into the net). */
  receiver: number;
  kicker: number;
  outcome: string;
}

const dist = (ax: number, ay: number, bx: number, by: number): number => Math.hypot(ax - bx, ay - by);

/** Distance from point p to segment a-b and the segment parameter of the closest point. */
function toSegment(px: number, py: number, ax: number, ay: number, bx: number, by: number): [number, number] {
  const dx = bx - ax;
  const dy = by - ay;
  const len2 = dx * dx + dy * dy || 1;
  const s = clamp(((px - ax) * dx + (py - ay) * dy) / len2, 0, 1);
  return [dist(px, py, ax + s * dx, ay + s * dy), s];
}

function nearestMate(players: readonly PlayerState[], kicker: number): number {
  const k = players[kicker];
  let best = -1;
  let bestD = Infinity;
  for (let i = 0; i < players.length; i++) {
    const p = players[i];
    if (p.team !== k.team || i === kicker || p.keeper) continue;
    const d = dist(k.x, k.y, p.x, p.y);
    if (d < bestD) {
      bestD = d;
      best = i;
    }
  }
  return best;
}

/**
 * Plans a pass from `kicker`: picks an open team-mate at the wanted range, leads the run, and decides
 * at launch whether an opponent near the line intercepts (then the flight ends at the interceptor).
 */
export function planPass(
  rng: Rng,
  players: readonly PlayerState[],
  kicker: number,
  kind: 'short' | 'long' | 'cross',
  period: number,
  step: number,
  safe: boolean,
): Flight | undefined {
  const k = players[kicker];
  const goalX = goalXAttacked(k.team, period);
  const dir = Math.sign(goalX - k.x) || 1;
  let best = -1;
  let bestScore = -Infinity;
  for (let i = 0; i < players.length; i++) {
    const p = players[i];
    if (p.team !== k.team || i === kicker || p.keeper) continue;
    const d = dist(k.x, k.y, p.x, p.y);
    const inRange = kind === 'short' ? d > 6 && d < 24 : kind === 'long' ? d > 20 && d < 55 : Math.abs(goalX - p.x) < 16;
    if (!inRange) continue;
    const forward = (p.x - k.x) * dir;
    const score = (safe ? -Math.abs(forward) * 0.2 : forward * 0.3) + rng.next() * 8;
    if (score > bestScore) {
      bestScore = score;
      best = i;
    }
  }
  if (best < 0) best = nearestMate(players, kicker);
  if (best < 0) return undefined;
  const r = players[best];
  const speed = kind === 'short' ? 14 : 19;
  let toX = r.x + r.vx * 0.6;
  let toY = r.y + r.vy * 0.6;
  if (kind !== 'short') {
    toX += rng.normal(5);
    toY += rng.normal(5);
  }
  const durSec = Math.max(0.3, dist(k.x, k.y, toX, toY) / speed);
  const flight: Flight = {
    kind: kind === 'cross' ? 'cross' : 'pass',
    fromX: k.x,
    fromY: k.y,
    toX,
    toY,
    startStep: step,
    durSteps: Math.max(2, Math.round(durSec * 25)),
    peakZ: kind === 'short' ? 0.2 : Math.min(6, durSec * 3),
    receiver: best,
    kicker,
    outcome: 'complete',
  };
  if (toX < 0 || toX > PITCH.lengthM || toY < 0 || toY > PITCH.widthM) {
    flight.receiver = -1;
    flight.outcome = 'out';
    return flight;
  }
  // Interception: the opponent closest to the line may cut it out.
  let cutBy = -1;
  let cutAt = 1;
  let cutDist = 2.6;
  for (let i = 0; i < players.length; i++) {
    const p = players[i];
    if (p.team === k.team || p.keeper) continue;
    const [d, s] = toSegment(p.x, p.y, k.x, k.y, toX, toY);
    if (d < cutDist && s > 0.15) {
      cutDist = d;
      cutBy = i;
      cutAt = s;
    }
  }
  const base = kind === 'short' ? (safe ? 0.04 : 0.12) : 0.3;
  if (cutBy >= 0 && rng.chance(base + (2.6 - cutDist) * 0.12)) {
    flight.toX = k.x + (toX - k.x) * cutAt;
    flight.toY = k.y + (toY - k.y) * cutAt;
    flight.durSteps = Math.max(2, Math.round(flight.durSteps * cutAt));
    flight.receiver = cutBy;
    flight.outcome = 'intercepted';
  }
  return flight;
}

/**
 * Plans a shot: the outcome (goal, saved, wide, blocked) is drawn at launch from the distance, and the
 * flight is aimed to match it so what the viewer sees agrees with the truth.
 */
export function planShot(rng: Rng, players: readonly PlayerState[], kicker: number, period: number, step: number, header: boolean): Flight {
  const k = players[kicker];
  const goalX = goalXAttacked(k.team, period);
  const dir = Math.sign(goalX - k.x) || 1;
  const centreY = PITCH.widthM / 2;
  const d = dist(k.x, k.y, goalX, centreY);
  const keeper = players.findIndex((p) => p.keeper && p.team !== k.team);
  let blocker = -1;
  for (let i = 0; i < players.length; i++) {
    const p = players[i];
    if (p.team === k.team || p.keeper) continue;
    const [dd, s] = toSegment(p.x, p.y, k.x, k.y, goalX, centreY);
    if (dd < 1.5 && s > 0.05 && s < 0.8) blocker = i;
  }
  const pGoal = clamp(0.4 - d / 60, 0.08, 0.3) * (header ? 0.8 : 1);
  const roll = rng.next();
  let outcome: string;
  if (blocker >= 0 && roll > 0.8) outcome = 'blocked';
  else if (roll < pGoal) outcome = 'goal';
  else if (roll < pGoal + 0.38) outcome = 'saved';
  else outcome = 'wide';
  const half = PITCH.goalWidthM / 2;
  let toX = goalX + dir * 1.2;
  let toY = centreY + rng.range(-half + 0.4, half - 0.4);
  let receiver = -1;
  if (outcome === 'saved') {
    const kp = players[keeper];
    toX = goalX - dir * 0.6;
    toY = clamp(kp.y + rng.normal(1.2), centreY - half, centreY + half);
    receiver = keeper;
  } else if (outcome === 'wide') {
    toY = centreY + (rng.chance(0.5) ? 1 : -1) * (half + rng.range(0.6, 5));
    toX = goalX + dir * 3;
  } else if (outcome === 'blocked') {
    toX = players[blocker].x;
    toY = players[blocker].y;
    receiver = blocker;
  }
  const speed = header ? 15 : 24;
  const durSec = Math.max(0.25, dist(k.x, k.y, toX, toY) / speed);
  return {
    kind: 'shot',
    fromX: k.x,
    fromY: k.y,
    toX,
    toY,
    startStep: step,
    durSteps: Math.max(2, Math.round(durSec * 25)),
    peakZ: outcome === 'wide' ? 2.5 : header ? 1.8 : 1.2,
    receiver,
    kicker,
    outcome,
  };
}
