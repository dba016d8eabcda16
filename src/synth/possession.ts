import type { Rng } from './rng.js';
import { PITCH, PLAYERS_PER_TEAM, WORLD_HZ, attackDir, clamp } from './pitch.js';
import type { PlayerState } from './state.js';

const secs = (s: number): number => Math.round(s * WORLD_HZ);

/**
 * Who has the ball and how they play it: the last touch (for restarts), each team's tempo (calm
 * build-up spells give quiet stretches), the supporting runner, and the carrier's decision timers.
 * Plain state plus the rules that change it; the Match decides when they apply.
 */
export class Possession {
  /** Player index who last played the ball, and their team. */
  lastTouch = -1;
  lastTouchTeam = 0;
  /** Per team: slow build-up, short passes, little pressing against them. */
  readonly calm: [boolean, boolean] = [false, false];
  /** Per team: the player making a supporting run. */
  readonly runner: [number, number] = [-1, -1];
  /** Tick the carrier got the ball, and tick of his next decision. */
  holdSince = 0;
  decideStep = 0;
  private readonly calmUntil: [number, number] = [0, 0];
  private dribbleUntil = -1;
  private dribbleX = 0;
  private dribbleY = 0;

  constructor(private readonly rng: Rng) {}

  touch(player: number, team: number): void {
    this.lastTouch = player;
    this.lastTouchTeam = team;
  }

  /** `player` controls the ball from tick s; a change of team may start a calm spell and a new runner. */
  take(player: number, team: number, s: number): void {
    const changed = team !== this.lastTouchTeam;
    this.touch(player, team);
    this.holdSince = s;
    this.dribbleUntil = -1;
    if (changed) {
      this.calm[1 - team] = false;
      if (this.rng.chance(0.25)) this.setCalm(team, s);
      this.runner[team] = team * PLAYERS_PER_TEAM + this.rng.pick([3, 5, 6]);
    }
    this.decideStep = s + secs(this.calm[team] ? this.rng.range(1.8, 4) : this.rng.range(0.3, 1.1));
  }

  setCalm(team: number, s: number): void {
    this.calm[team] = true;
    this.calmUntil[team] = s + secs(this.rng.range(10, 30));
  }

  /** Ends calm spells whose time is up. */
  tick(s: number): void {
    for (let t = 0; t < 2; t++) if (this.calm[t] && s >= this.calmUntil[t]) this.calm[t] = false;
  }

  /** True once the carrier has dribbled since getting the ball (he then passes or shoots). */
  get hasDribbled(): boolean {
    return this.dribbleUntil >= 0;
  }

  startDribble(s: number, durSec: number, toX: number, toY: number): void {
    this.dribbleUntil = s + secs(durSec);
    this.decideStep = this.dribbleUntil;
    this.dribbleX = toX;
    this.dribbleY = toY;
  }

  /** Where the carrier heads: the dribble point at pace, else forward and a little inside, slowly when calm. */
  carrierTarget(p: PlayerState, period: number, s: number): { x: number; y: number; speedMps: number } {
    if (s < this.dribbleUntil) return { x: this.dribbleX, y: this.dribbleY, speedMps: 6 };
    return {
      x: clamp(p.x + attackDir(p.team, period) * 6, 2, PITCH.lengthM - 2),
      y: clamp(p.y + (PITCH.widthM / 2 - p.y) * 0.2, 2, PITCH.widthM - 2),
      speedMps: this.calm[p.team] ? 1.5 : 4,
    };
  }
}
