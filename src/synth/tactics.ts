import { FORMATION, PITCH, WORLD_HZ, attackDir, clamp, goalXAttacked, toWorld } from './pitch.js';
import type { PlayerState } from './state.js';

/** What the shape of both teams depends on at one tick. */
export interface TacticsInput {
  period: number;
  /** Where the ball is, or where a flight will land. */
  ballX: number;
  ballY: number;
  /** Team in possession (or about to be), -1 when nobody is. */
  attacking: number;
  /** Players steered elsewhere by the match itself (carrier, receiver, restart taker): left untouched. */
  busy: ReadonlySet<number>;
  /** Per team: slow build-up (shape held, no hard press). */
  calm: readonly [boolean, boolean];
  /** Per team: the player making a supporting run, or -1. */
  runner: readonly [number, number];
  /** Before a kickoff everyone stays in their own half. */
  kickoff: boolean;
}

export interface Targets {
  x: Float64Array;
  y: Float64Array;
  speedMps: Float64Array;
}

export function createTargets(n: number): Targets {
  return { x: new Float64Array(n), y: new Float64Array(n), speedMps: new Float64Array(n) };
}

export function setTarget(t: Targets, i: number, x: number, y: number, speedMps: number): void {
  t.x[i] = x;
  t.y[i] = y;
  t.speedMps[i] = speedMps;
}

function nearestOutfield(players: readonly PlayerState[], team: number, x: number, y: number, skip: number): number {
  let best = -1;
  let bestD = Infinity;
  for (let i = 0; i < players.length; i++) {
    const p = players[i];
    if (p.team !== team || p.keeper || i === skip) continue;
    const d = (p.x - x) ** 2 + (p.y - y) ** 2;
    if (d < bestD) {
      bestD = d;
      best = i;
    }
  }
  return best;
}

/**
 * Team shape: each player's formation slot slides with the ball (the block moves up and across),
 * pushes higher in possession; the nearest defender presses the ball, the next covers; the runner
 * goes beyond the ball; keepers guard the line between ball and goal centre.
 */
export function computeTargets(players: readonly PlayerState[], input: TacticsInput, out: Targets): void {
  const { period, ballX, ballY, attacking } = input;
  const pressers: number[] = [];
  const covers: number[] = [];
  for (let team = 0; team < 2; team++) {
    const defending = attacking !== team;
    pressers[team] = defending ? nearestOutfield(players, team, ballX, ballY, -1) : -1;
    covers[team] = defending ? nearestOutfield(players, team, ballX, ballY, pressers[team]) : -1;
  }
  for (let i = 0; i < players.length; i++) {
    if (input.busy.has(i)) continue;
    const p = players[i];
    const dir = attackDir(p.team, period);
    const ownGoalX = goalXAttacked(1 - p.team, period);
    const ballU = dir === 1 ? ballX / PITCH.lengthM : 1 - ballX / PITCH.lengthM;
    const ballV = dir === 1 ? ballY / PITCH.widthM : 1 - ballY / PITCH.widthM;
    const slot = FORMATION[p.slot];
    out.speedMps[i] = 4.5;
    if (p.keeper) {
      // Stay on the ball-goal line, a few metres off the goal line, inside the posts (+1 m).
      const depth = clamp(3 + (1 - Math.abs(ballX - ownGoalX) / PITCH.lengthM) * 3, 1, 6) * (input.kickoff ? 0.3 : 1);
      const toBall = Math.abs(ballX - ownGoalX) || 1;
      out.x[i] = ownGoalX + dir * depth;
      out.y[i] = clamp(PITCH.widthM / 2 + ((ballY - PITCH.widthM / 2) * depth) / toBall, PITCH.widthM / 2 - 4.6, PITCH.widthM / 2 + 4.6);
      out.speedMps[i] = 6;
      continue;
    }
    const inPossession = attacking === p.team;
    let u = slot.u + (ballU - 0.5) * 0.45 + (inPossession ? 0.08 : -0.04);
    let v = slot.v + (ballV - slot.v) * (inPossession ? 0.12 : 0.3);
    if (input.kickoff) u = Math.min(slot.u * 0.9, 0.46);
    u = clamp(u, 0.06, 0.92);
    v = clamp(v, 0.05, 0.95);
    let { x, y } = toWorld(u, v, dir);
    if (!input.kickoff) {
      if (i === pressers[p.team]) {
        // Calm opponents are shown respect: close down to a few metres, no lunge.
        const hold = input.calm[1 - p.team] ? 5 : 0.6;
        const dx = ballX - ownGoalX;
        const len = Math.hypot(dx, 0) || 1;
        x = ballX - (dx / len) * hold;
        y = ballY;
        out.speedMps[i] = input.calm[1 - p.team] ? 4 : 6.8;
      } else if (i === covers[p.team]) {
        x = ballX + (ownGoalX - ballX) * 0.25;
        y = ballY + (PITCH.widthM / 2 - ballY) * 0.3;
        out.speedMps[i] = 5.5;
      } else if (i === input.runner[p.team] && inPossession) {
        x = ballX + dir * 14;
        y = y + (PITCH.widthM / 2 - y) * 0.3;
        out.speedMps[i] = 7;
      }
    }
    out.x[i] = clamp(x, 1, PITCH.lengthM - 1);
    out.y[i] = clamp(y, 1, PITCH.widthM - 1);
  }
}

/** Steers every player towards its target: capped speed, slowing to arrive, smoothed acceleration. */
export function movePlayers(players: PlayerState[], targets: Targets): void {
  const dt = 1 / WORLD_HZ;
  for (let i = 0; i < players.length; i++) {
    const p = players[i];
    const dx = targets.x[i] - p.x;
    const dy = targets.y[i] - p.y;
    const d = Math.hypot(dx, dy);
    // Arrive: slow down inside the last couple of metres so players settle instead of jittering.
    const want = Math.min(targets.speedMps[i], d * 1.5);
    const wx = d > 1e-6 ? (dx / d) * want : 0;
    const wy = d > 1e-6 ? (dy / d) * want : 0;
    p.vx += (wx - p.vx) * 0.15;
    p.vy += (wy - p.vy) * 0.15;
    p.x += p.vx * dt;
    p.y += p.vy * dt;
  }
}
