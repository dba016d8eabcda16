import type { Kit } from './teams.js';

/** Mutable world state the simulation owns and the renderer/camera read (never write). */
export interface PlayerState {
  team: 0 | 1;
  shirt: number;
  keeper: boolean;
  /** Index into FORMATION. */
  slot: number;
  x: number;
  y: number;
  vx: number;
  vy: number;
}

/** held: at a player's feet; flight: passed/shot; loose: rolling free; dead: waiting for a restart. */
export type BallMode = 'held' | 'flight' | 'loose' | 'dead';

export interface BallState {
  x: number;
  y: number;
  /** Height above the grass in metres (for the shadow). */
  z: number;
  vx: number;
  vy: number;
  mode: BallMode;
  /** Player index holding the ball, or -1. */
  holder: number;
}

/** What the renderer needs from a match at one instant. */
export interface WorldView {
  readonly kits: readonly [Kit, Kit];
  readonly players: readonly PlayerState[];
  readonly ball: BallState;
  readonly score: readonly [number, number];
  /** Match clock in seconds (resets at each new match after full time). */
  readonly clockSec: number;
  readonly period: number;
  /** A shot or a dangerous attack is on: the camera zooms in. */
  readonly chance: boolean;
}
