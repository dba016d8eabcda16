import type { Flight } from './actions.js';
import { PITCH, WORLD_HZ } from './pitch.js';
import type { BallState, PlayerState } from './state.js';

/** Ball kinematics: where it is in flight, how it rolls when loose, and who can reach it. */

/** Along the flight line, with a parabolic height peaking mid-way. Returns progress 0..1. */
export function placeOnFlight(b: BallState, f: Flight, step: number): number {
  const k = Math.min(1, (step - f.startStep) / f.durSteps);
  b.x = f.fromX + (f.toX - f.fromX) * k;
  b.y = f.fromY + (f.toY - f.fromY) * k;
  b.z = 4 * f.peakZ * k * (1 - k);
  return k;
}

/** A flight nobody met rolls on slowly from where it landed. */
export function looseAfter(b: BallState, f: Flight): void {
  const len = Math.hypot(f.toX - f.fromX, f.toY - f.fromY) || 1;
  b.mode = 'loose';
  b.vx = ((f.toX - f.fromX) / len) * 3;
  b.vy = ((f.toY - f.fromY) / len) * 3;
}

/** One tick of rolling with grass friction. */
export function roll(b: BallState): void {
  b.x += b.vx / WORLD_HZ;
  b.y += b.vy / WORLD_HZ;
  b.vx *= 0.96;
  b.vy *= 0.96;
  b.z = 0;
}

export function isOutOfPlay(b: BallState): boolean {
  return b.x < 0 || b.x > PITCH.lengthM || b.y < 0 || b.y > PITCH.widthM;
}

/** The first player within reach of a loose ball, or -1. */
export function playerInReach(players: readonly PlayerState[], b: BallState): number {
  for (let i = 0; i < players.length; i++) if (Math.hypot(players[i].x - b.x, players[i].y - b.y) <= 1.1) return i;
  return -1;
}

/** At the carrier's feet, just ahead in his running direction. */
export function atFeet(b: BallState, p: PlayerState): void {
  const speed = Math.hypot(p.vx, p.vy) || 1;
  b.x = p.x + (p.vx / speed) * 0.6;
  b.y = p.y + (p.vy / speed) * 0.6;
  b.z = 0;
}
