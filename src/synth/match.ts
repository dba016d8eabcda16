import { Rng } from './rng.js';
import { pickKits, type Kit } from './teams.js';
import { FORMATION, PITCH, PLAYERS_PER_TEAM, WORLD_HZ, attackDir, clamp, goalXAttacked, toWorld } from './pitch.js';
import type { BallState, PlayerState, WorldView } from './state.js';
import type { EventType, MatchEvent } from './types.js';
import { planPass, planShot, type Flight } from './actions.js';
import { computeTargets, createTargets, type TacticsInput } from './tactics.js';

export interface MatchOptions {
  /** Length of each half on the match clock; after two halves a new match starts (score reset). Default 2700 (45 min). */
  halfSeconds?: number;
}

type RestartType = 'kickoff' | 'throw_in' | 'corner' | 'goal_kick';

interface Restart {
  type: RestartType;
  team: number;
  taker: number;
  x: number;
  y: number;
  /** The ball is placed on the spot from this tick (before that it lies where it went out). */
  placeStep: number;
  readyStep: number;
}

const secs = (s: number): number => Math.round(s * WORLD_HZ);

/**
 * The match simulation: a fixed-rate world (WORLD_HZ ticks a second) fully determined by its seed.
 * Each `step()` advances one tick and returns the events that happened in it. Per tick:
 * period clock -> restart / ball flight / loose ball / ball carrier -> team shape -> player movement.
 */
export class Match implements WorldView {
  readonly seed: number;
  readonly kits: [Kit, Kit];
  readonly teamNames: [string, string];
  readonly players: PlayerState[] = [];
  readonly ball: BallState = { x: PITCH.lengthM / 2, y: PITCH.widthM / 2, z: 0, vx: 0, vy: 0, mode: 'dead', holder: -1 };
  score: [number, number] = [0, 0];
  period = 0;
  chance = false;
  /** Ticks simulated so far. */
  stepIndex = 0;
  private readonly halfSteps: number;
  private readonly rng: Rng;
  private readonly targets = createTargets(PLAYERS_PER_TEAM * 2);
  private matchStartStep = 0;
  private flight: Flight | undefined;
  private restart: Restart | undefined;
  private breakUntil = -1;
  private breakEndsMatch = false;
  private decideStep = 0;
  private holdSince = 0;
  private dribbleUntil = -1;
  private dribbleX = 0;
  private dribbleY = 0;
  private lastTouchTeam = 0;
  private calm: [boolean, boolean] = [false, false];
  private calmUntil: [number, number] = [0, 0];
  private runner: [number, number] = [-1, -1];
  private events: MatchEvent[] = [];

  constructor(seed: number, options: MatchOptions = {}) {
    this.seed = seed;
    this.rng = Rng.derive(seed, 'match');
    this.kits = pickKits(this.rng);
    this.teamNames = [this.kits[0].name, this.kits[1].name];
    this.halfSteps = secs(options.halfSeconds ?? 2700);
    for (let team = 0; team < 2; team++) {
      FORMATION.forEach((slot, i) => {
        this.players.push({ team: team as 0 | 1, shirt: slot.shirt, keeper: slot.keeper, slot: i, x: 0, y: 0, vx: 0, vy: 0 });
      });
    }
    this.lineUpForKickoff(0, secs(0.4));
  }

  /** Video time in seconds at the start of the next tick. */
  get tSec(): number {
    return this.stepIndex / WORLD_HZ;
  }

  /** Match clock in seconds. */
  get clockSec(): number {
    return (this.stepIndex - this.matchStartStep) / WORLD_HZ;
  }

  /** Advances one world tick; returns the events of that tick (the array is fresh each call). */
  step(): MatchEvent[] {
    this.events = [];
    const s = this.stepIndex;
    const busy = new Set<number>();
    if (this.breakUntil < 0 && s - this.matchStartStep >= (this.period + 1) * this.halfSteps) this.endPeriod(s);
    if (this.breakUntil >= 0) {
      if (s >= this.breakUntil) this.resumeAfterBreak(s);
    } else if (this.restart) this.stepRestart(s, busy);
    else if (this.flight) this.stepFlight(s, busy);
    else if (this.ball.mode === 'loose') this.stepLoose();
    else if (this.ball.mode === 'held') this.stepCarrier(s, busy);
    for (let t = 0; t < 2; t++) if (this.calm[t] && s >= this.calmUntil[t]) this.calm[t] = false;
    this.moveTeams(busy);
    this.stepIndex++;
    return this.events;
  }

  private emit(type: EventType, actor: number, extra: Partial<MatchEvent> = {}, team: number = this.players[actor]?.team ?? 0): void {
    const t = this.stepIndex / WORLD_HZ;
    const clock = this.clockSec;
    this.events.push({
      t: Math.round(t * 100) / 100,
      second: Math.floor(this.stepIndex / WORLD_HZ),
      type,
      team: this.teamNames[team],
      teamIndex: team,
      player: actor >= 0 ? this.players[actor].shirt : 0,
      x: Math.round(this.ball.x * 10) / 10,
      y: Math.round(this.ball.y * 10) / 10,
      ...extra,
      score: [this.score[0], this.score[1]],
      minute: Math.floor(clock / 60) + 1,
      half: this.period,
    });
  }

  private endPeriod(s: number): void {
    const fullTime = this.period >= 1;
    const [a, b] = this.teamNames;
    this.emit(fullTime ? 'full_time' : 'half_time', -1, { detail: `${a} ${this.score[0]}-${this.score[1]} ${b}` }, 0);
    this.flight = undefined;
    this.restart = undefined;
    this.ball.mode = 'dead';
    this.ball.holder = -1;
    this.breakUntil = s + secs(3);
    this.breakEndsMatch = fullTime;
  }

  private resumeAfterBreak(s: number): void {
    this.breakUntil = -1;
    if (this.breakEndsMatch) {
      this.score = [0, 0];
      this.period = 0;
      this.matchStartStep = s;
    } else this.period = 1;
    this.lineUpForKickoff(this.period, s + secs(1));
    for (const p of this.players) {
      const home = toWorld(Math.min(FORMATION[p.slot].u, 0.45), FORMATION[p.slot].v, attackDir(p.team, this.period));
      p.x = home.x;
      p.y = home.y;
    }
  }

  private lineUpForKickoff(team: number, readyStep: number): void {
    const taker = team * PLAYERS_PER_TEAM + FORMATION.findIndex((f) => f.shirt === 9);
    const cx = PITCH.lengthM / 2;
    const cy = PITCH.widthM / 2;
    this.restart = { type: 'kickoff', team, taker, x: cx, y: cy, placeStep: readyStep - secs(3), readyStep };
    if (this.stepIndex === 0) {
      for (const p of this.players) {
        const home = toWorld(Math.min(FORMATION[p.slot].u, 0.45), FORMATION[p.slot].v, attackDir(p.team, this.period));
        p.x = home.x;
        p.y = home.y;
      }
      this.players[taker].x = cx - attackDir(team, this.period) * 0.5;
      this.players[taker].y = cy;
    }
  }

  private stepRestart(s: number, busy: Set<number>): void {
    const r = this.restart!;
    busy.add(r.taker);
    const taker = this.players[r.taker];
    const behind = r.type === 'kickoff' ? attackDir(r.team, this.period) * 0.5 : 0;
    this.targets.x[r.taker] = r.x - behind;
    this.targets.y[r.taker] = r.y;
    this.targets.speedMps[r.taker] = 7;
    if (s >= r.placeStep) {
      this.ball.x = r.x;
      this.ball.y = r.y;
      this.ball.z = 0;
    }
    const arrived = Math.hypot(taker.x - (r.x - behind), taker.y - r.y) < 1.2;
    if (s < r.readyStep || !(arrived || s > r.readyStep + secs(6))) return;
    this.restart = undefined;
    this.ball.x = r.x;
    this.ball.y = r.y;
    const kind = r.type === 'corner' ? 'cross' : r.type === 'goal_kick' && !this.calm[r.team] ? 'long' : 'short';
    const flight = planPass(this.rng, this.players, r.taker, kind, this.period, s, true);
    if (!flight) return;
    if (r.type === 'kickoff') this.emit('kickoff', r.taker, { other: this.players[flight.receiver]?.shirt });
    else this.emitPass(flight, r.type === 'throw_in' ? 'throw' : kind);
    this.launch(flight);
  }

  private emitPass(f: Flight, detail: string): void {
    const other = f.receiver >= 0 && this.players[f.receiver].team === this.players[f.kicker].team ? this.players[f.receiver].shirt : undefined;
    this.emit('pass', f.kicker, { detail, outcome: f.outcome, other });
  }

  private launch(f: Flight): void {
    this.flight = f;
    this.ball.mode = 'flight';
    this.ball.holder = -1;
    this.lastTouchTeam = this.players[f.kicker].team;
  }

  private stepFlight(s: number, busy: Set<number>): void {
    const f = this.flight!;
    const k = Math.min(1, (s - f.startStep) / f.durSteps);
    const b = this.ball;
    b.x = f.fromX + (f.toX - f.fromX) * k;
    b.y = f.fromY + (f.toY - f.fromY) * k;
    b.z = 4 * f.peakZ * k * (1 - k);
    if (f.receiver >= 0) {
      busy.add(f.receiver);
      this.targets.x[f.receiver] = f.toX;
      this.targets.y[f.receiver] = f.toY;
      this.targets.speedMps[f.receiver] = 7;
    }
    if (b.x < 0 || b.x > PITCH.lengthM || b.y < 0 || b.y > PITCH.widthM) {
      this.flight = undefined;
      this.ballOut(s, f);
      return;
    }
    if (k < 1) return;
    this.flight = undefined;
    const kickerTeam = this.players[f.kicker].team;
    if (f.receiver < 0 || (!(f.kind === 'shot' && f.outcome === 'saved') && Math.hypot(this.players[f.receiver].x - b.x, this.players[f.receiver].y - b.y) > 3)) {
      const len = Math.hypot(f.toX - f.fromX, f.toY - f.fromY) || 1;
      b.mode = 'loose';
      b.vx = ((f.toX - f.fromX) / len) * 3;
      b.vy = ((f.toY - f.fromY) / len) * 3;
      return;
    }
    const r = this.players[f.receiver];
    if (f.kind === 'shot' && f.outcome === 'saved') {
      const parried = this.rng.chance(0.35);
      this.emit('save', f.receiver, { outcome: parried ? 'parried' : 'held', other: this.players[f.kicker].shirt });
      if (parried) {
        this.ballOutAt(s, this.ball.x, this.ball.y < PITCH.widthM / 2 ? 0 : PITCH.widthM, r.team);
        return;
      }
    } else if (r.team !== kickerTeam) {
      this.emit('interception', f.receiver, { detail: f.kind === 'shot' ? 'blocked shot' : 'pass', other: this.players[f.kicker].shirt });
    } else if (f.kind === 'cross' && this.rng.chance(0.45)) {
      // A cross met first time: a header at goal.
      this.giveBall(f.receiver, s);
      this.shoot(f.receiver, s, true);
      return;
    }
    this.giveBall(f.receiver, s);
  }

  /** The ball left the pitch (or went in): goal, or the right restart for the other team. */
  private ballOut(s: number, f: Flight | undefined): void {
    const b = this.ball;
    const half = PITCH.goalWidthM / 2;
    const crossedLine = b.x < 0 || b.x > PITCH.lengthM;
    if (f?.kind === 'shot' && f.outcome === 'goal' && crossedLine && Math.abs(b.y - PITCH.widthM / 2) < half) {
      const team = this.players[f.kicker].team;
      this.score[team]++;
      this.emit('goal', f.kicker, { detail: f.peakZ > 1.5 ? 'header' : 'shot' });
      b.mode = 'dead';
      this.lineUpForKickoff(1 - team, s + secs(7));
      return;
    }
    // Some wide shots take a deflection: corner instead of goal kick.
    const deflected = f?.kind === 'shot' && crossedLine && this.rng.chance(0.3);
    this.ballOutAt(s, b.x, b.y, deflected ? 1 - this.lastTouchTeam : this.lastTouchTeam);
  }

  private ballOutAt(s: number, x: number, y: number, lastTeam: number): void {
    const b = this.ball;
    b.mode = 'dead';
    b.holder = -1;
    b.z = 0;
    const last = this.players.findIndex((p) => p.team === lastTeam);
    let type: RestartType;
    let team: number;
    let rx = clamp(x, 0, PITCH.lengthM);
    let ry = clamp(y, 0, PITCH.widthM);
    if (x >= 0 && x <= PITCH.lengthM) {
      type = 'throw_in';
      team = 1 - lastTeam;
    } else {
      const endX = x < 0 ? 0 : PITCH.lengthM;
      const defending = goalXAttacked(0, this.period) === endX ? 1 : 0;
      if (lastTeam === defending) {
        type = 'corner';
        team = 1 - defending;
        ry = y < PITCH.widthM / 2 ? 0.5 : PITCH.widthM - 0.5;
        rx = endX === 0 ? 0.5 : PITCH.lengthM - 0.5;
      } else {
        type = 'goal_kick';
        team = defending;
        rx = endX === 0 ? 5 : PITCH.lengthM - 5;
        ry = PITCH.widthM / 2 + this.rng.range(-4, 4);
      }
    }
    const taker = type === 'goal_kick' ? team * PLAYERS_PER_TEAM : this.nearest(team, rx, ry, true);
    const wait = type === 'throw_in' ? this.rng.range(2, 4) : this.rng.range(3.5, 6);
    this.restart = { type, team, taker, x: rx, y: ry, placeStep: s + secs(1), readyStep: s + secs(wait) };
    if (type === 'goal_kick' && this.rng.chance(0.5)) this.setCalm(team, s);
    this.emit(type, taker, { other: this.players[last]?.shirt }, team);
  }

  private nearest(team: number, x: number, y: number, outfield: boolean): number {
    let best = -1;
    let bestD = Infinity;
    this.players.forEach((p, i) => {
      if (p.team !== team || (outfield && p.keeper)) return;
      const d = Math.hypot(p.x - x, p.y - y);
      if (d < bestD) {
        bestD = d;
        best = i;
      }
    });
    return best;
  }

  private stepLoose(): void {
    const b = this.ball;
    b.x += b.vx / WORLD_HZ;
    b.y += b.vy / WORLD_HZ;
    b.vx *= 0.96;
    b.vy *= 0.96;
    b.z = 0;
    if (b.x < 0 || b.x > PITCH.lengthM || b.y < 0 || b.y > PITCH.widthM) return this.ballOut(this.stepIndex, undefined);
    for (let i = 0; i < this.players.length; i++) {
      const p = this.players[i];
      if (Math.hypot(p.x - b.x, p.y - b.y) > 1.1) continue;
      if (p.team !== this.lastTouchTeam) this.emit('interception', i, { detail: 'loose ball' });
      this.giveBall(i, this.stepIndex);
      return;
    }
  }

  private setCalm(team: number, s: number): void {
    this.calm[team] = true;
    this.calmUntil[team] = s + secs(this.rng.range(10, 30));
  }

  private giveBall(i: number, s: number): void {
    const p = this.players[i];
    const changed = p.team !== this.lastTouchTeam;
    this.ball.mode = 'held';
    this.ball.holder = i;
    this.ball.z = 0;
    this.lastTouchTeam = p.team;
    this.holdSince = s;
    this.dribbleUntil = -1;
    if (changed) {
      this.calm[1 - p.team] = false;
      if (this.rng.chance(0.25)) this.setCalm(p.team, s);
      this.runner[p.team] = p.team * PLAYERS_PER_TEAM + this.rng.pick([3, 5, 6]);
    }
    this.decideStep = s + secs(this.calm[p.team] ? this.rng.range(1.8, 4) : this.rng.range(0.3, 1.1));
  }

  private shoot(i: number, s: number, header: boolean): void {
    const f = planShot(this.rng, this.players, i, this.period, s, header);
    const p = this.players[i];
    const distM = Math.hypot(goalXAttacked(p.team, this.period) - p.x, PITCH.widthM / 2 - p.y);
    this.emit('shot', i, { detail: header ? 'header' : distM > 20 ? 'long range' : 'shot', outcome: f.outcome });
    this.launch(f);
  }

  private stepCarrier(s: number, busy: Set<number>): void {
    const c = this.ball.holder;
    const p = this.players[c];
    const dir = attackDir(p.team, this.period);
    const goalX = goalXAttacked(p.team, this.period);
    busy.add(c);
    const calm = this.calm[p.team];
    if (s < this.dribbleUntil) {
      this.targets.x[c] = this.dribbleX;
      this.targets.y[c] = this.dribbleY;
      this.targets.speedMps[c] = 6;
    } else {
      this.targets.x[c] = clamp(p.x + dir * 6, 2, PITCH.lengthM - 2);
      this.targets.y[c] = clamp(p.y + (PITCH.widthM / 2 - p.y) * 0.2, 2, PITCH.widthM - 2);
      this.targets.speedMps[c] = calm ? 1.5 : 4;
    }
    const speed = Math.hypot(p.vx, p.vy) || 1;
    this.ball.x = p.x + (p.vx / speed) * 0.6;
    this.ball.y = p.y + (p.vy / speed) * 0.6;
    // Tackles: a pressing opponent at the carrier's feet may win it.
    if (s - this.holdSince > secs(0.5)) {
      for (let i = 0; i < this.players.length; i++) {
        const o = this.players[i];
        if (o.team === p.team || Math.hypot(o.x - p.x, o.y - p.y) > 1.4) continue;
        if (!this.rng.chance(calm ? 0.008 : o.keeper ? 0.15 : 0.04)) continue;
        const intoTouch = !o.keeper && this.rng.chance(0.15);
        this.emit(o.keeper ? 'save' : 'tackle', i, { other: p.shirt, outcome: o.keeper ? 'claimed' : intoTouch ? 'out' : 'won' });
        if (intoTouch) {
          // Poked out over the nearer touchline: throw-in to the carrier's team.
          this.lastTouchTeam = o.team;
          this.ballOutAt(s, p.x, p.y < PITCH.widthM / 2 ? -0.5 : PITCH.widthM + 0.5, o.team);
          return;
        }
        this.giveBall(i, s);
        return;
      }
    }
    if (s < this.decideStep) return;
    const distGoal = Math.hypot(goalX - p.x, PITCH.widthM / 2 - p.y);
    const r = this.rng.next();
    if (!p.keeper && !calm && ((distGoal < 16 && r < 0.8) || (distGoal < 24 && r < 0.45) || (distGoal < 32 && r < 0.1))) {
      return this.shoot(c, s, false);
    }
    const justDribbled = this.dribbleUntil >= 0;
    if (!p.keeper && !justDribbled && this.rng.chance(calm ? 0.12 : 0.3)) {
      const opp = this.nearest(1 - p.team, p.x, p.y, false);
      const past = Math.hypot(this.players[opp].x - p.x, this.players[opp].y - p.y) < 5;
      this.dribbleUntil = s + secs(this.rng.range(1.2, 3));
      this.decideStep = this.dribbleUntil;
      this.dribbleX = clamp(p.x + dir * this.rng.range(8, 16), 2, PITCH.lengthM - 2);
      this.dribbleY = clamp(p.y + this.rng.normal(6), 2, PITCH.widthM - 2);
      this.emit('dribble', c, { detail: past ? 'past' : 'run', other: past ? this.players[opp].shirt : undefined });
      return;
    }
    const kind = p.keeper ? (calm ? 'short' : 'long') : !calm && this.rng.chance(0.2) ? 'long' : 'short';
    const f = planPass(this.rng, this.players, c, kind, this.period, s, calm);
    if (!f) return;
    this.emitPass(f, kind);
    this.launch(f);
  }

  private moveTeams(busy: Set<number>): void {
    const b = this.ball;
    const landing = this.flight ? { x: this.flight.toX, y: this.flight.toY } : b;
    const kicker = this.flight ? this.players[this.flight.kicker].team : -1;
    const attacking = b.mode === 'held' ? this.players[b.holder].team : this.restart ? this.restart.team : kicker;
    const input: TacticsInput = {
      period: this.period,
      ballX: landing.x,
      ballY: landing.y,
      attacking,
      busy,
      calm: this.calm,
      runner: this.runner,
      kickoff: this.restart?.type === 'kickoff' || this.breakUntil >= 0,
    };
    computeTargets(this.players, input, this.targets);
    const dt = 1 / WORLD_HZ;
    for (let i = 0; i < this.players.length; i++) {
      const p = this.players[i];
      const dx = this.targets.x[i] - p.x;
      const dy = this.targets.y[i] - p.y;
      const d = Math.hypot(dx, dy);
      // Arrive: slow down inside the last couple of metres so players settle instead of jittering.
      const want = Math.min(this.targets.speedMps[i], d * 1.5);
      const wx = d > 1e-6 ? (dx / d) * want : 0;
      const wy = d > 1e-6 ? (dy / d) * want : 0;
      p.vx += (wx - p.vx) * 0.15;
      p.vy += (wy - p.vy) * 0.15;
      p.x += p.vx * dt;
      p.y += p.vy * dt;
    }
    const goalDist = Math.min(b.x, PITCH.lengthM - b.x);
    this.chance = this.flight?.kind === 'shot' || (attacking >= 0 && goalDist < 22 && goalXAttacked(attacking, this.period) === (b.x < PITCH.lengthM / 2 ? 0 : PITCH.lengthM));
  }
}
