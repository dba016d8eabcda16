import { Rng } from './rng.js';
import { pickKits, type Kit } from './teams.js';
import { FORMATION, PITCH, PLAYERS_PER_TEAM, WORLD_HZ, attackDir, goalXAttacked } from './pitch.js';
import type { BallState, PlayerState, WorldView } from './state.js';
import type { EventType, MatchEvent } from './types.js';
import { planPass, planShot, type Flight } from './actions.js';
import { computeTargets, createTargets, movePlayers, setTarget, type TacticsInput } from './tactics.js';
import { buildEvent } from './events.js';
import { atFeet, isOutOfPlay, looseAfter, placeOnFlight, playerInReach, roll } from './ball.js';
import { kickoffSpot, nearestPlayer, restartForOut, type Restart } from './restarts.js';
import { decideCarrier, findTackler } from './carrier.js';
import { PeriodClock } from './periods.js';
import { Possession } from './possession.js';

export interface MatchOptions {
  /** Length of each half on the match clock; after two halves a new match starts (score reset). Default 2700 (45 min). */
  halfSeconds?: number;
  /**
   * Score on the board when the video starts, as when a broadcast is joined late (default 0-0). Lets
   * training see two-digit scores, which short matches never reach; a new match after full time starts at 0-0.
   */
  startScore?: readonly [number, number];
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
  chance = false;
  /** Ticks simulated so far. */
  stepIndex = 0;
  private readonly rng: Rng;
  private readonly targets = createTargets(PLAYERS_PER_TEAM * 2);
  private flight: Flight | undefined;
  private restart: Restart | undefined;
  private readonly clock: PeriodClock;
  private readonly possession: Possession;
  private events: MatchEvent[] = [];

  constructor(seed: number, options: MatchOptions = {}) {
    this.seed = seed;
    this.rng = Rng.derive(seed, 'match');
    this.kits = pickKits(this.rng);
    this.teamNames = [this.kits[0].name, this.kits[1].name];
    this.possession = new Possession(this.rng);
    this.clock = new PeriodClock(secs(options.halfSeconds ?? 2700));
    if (options.startScore) this.score = [options.startScore[0], options.startScore[1]];
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
    return this.clock.clockSec(this.stepIndex);
  }

  /** 0 = first half, 1 = second half. */
  get period(): number {
    return this.clock.period;
  }

  /** Advances one world tick; returns the events of that tick (the array is fresh each call). */
  step(): MatchEvent[] {
    this.events = [];
    const s = this.stepIndex;
    const busy = new Set<number>();
    const change = this.clock.tick(s);
    if (change === 'half_time' || change === 'full_time') this.endPeriod(change);
    else if (change) this.resumeAfterBreak(s, change === 'new_match');
    if (this.clock.inBreak) {
      // Players walk to their kickoff shape; nothing else happens.
    } else if (this.restart) this.stepRestart(s, busy);
    else if (this.flight) this.stepFlight(s, busy);
    else if (this.ball.mode === 'loose') this.stepLoose();
    else if (this.ball.mode === 'held') this.stepCarrier(s, busy);
    this.possession.tick(s);
    this.moveTeams(busy);
    this.stepIndex++;
    return this.events;
  }

  private emit(type: EventType, actor: number, extra: Partial<MatchEvent> = {}, team: number = this.players[actor]?.team ?? 0): void {
    const at = { stepIndex: this.stepIndex, clockSec: this.clockSec, half: this.period, score: this.score, ballX: this.ball.x, ballY: this.ball.y };
    const shirt = actor >= 0 ? this.players[actor].shirt : 0;
    this.events.push(buildEvent(type, { name: this.teamNames[team], index: team }, shirt, at, extra));
  }

  private endPeriod(type: 'half_time' | 'full_time'): void {
    const [a, b] = this.teamNames;
    this.emit(type, -1, { detail: `${a} ${this.score[0]}-${this.score[1]} ${b}` }, 0);
    this.flight = undefined;
    this.restart = undefined;
    this.ball.mode = 'dead';
    this.ball.holder = -1;
  }

  private resumeAfterBreak(s: number, newMatch: boolean): void {
    if (newMatch) this.score = [0, 0];
    this.lineUpForKickoff(this.period, s + secs(1));
    for (const p of this.players) Object.assign(p, kickoffSpot(p, this.period));
  }

  private lineUpForKickoff(team: number, readyStep: number): void {
    const taker = team * PLAYERS_PER_TEAM + FORMATION.findIndex((f) => f.shirt === 9);
    const cx = PITCH.lengthM / 2;
    const cy = PITCH.widthM / 2;
    this.restart = { type: 'kickoff', team, taker, x: cx, y: cy, placeStep: readyStep - secs(3), readyStep };
    if (this.stepIndex === 0) {
      for (const p of this.players) Object.assign(p, kickoffSpot(p, this.period));
      this.players[taker].x = cx - attackDir(team, this.period) * 0.5;
      this.players[taker].y = cy;
    }
  }

  private stepRestart(s: number, busy: Set<number>): void {
    const r = this.restart!;
    busy.add(r.taker);
    const taker = this.players[r.taker];
    const behind = r.type === 'kickoff' ? attackDir(r.team, this.period) * 0.5 : 0;
    setTarget(this.targets, r.taker, r.x - behind, r.y, 7);
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
    const kind = r.type === 'corner' ? 'cross' : r.type === 'goal_kick' && !this.possession.calm[r.team] ? 'long' : 'short';
    const flight = planPass(this.rng, this.players, r.taker, kind, this.period, s, true);
    if (!flight) return this.giveBall(r.taker, s); // nobody to pass to: play it himself
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
    this.possession.touch(f.kicker, this.players[f.kicker].team);
  }

  private stepFlight(s: number, busy: Set<number>): void {
    const f = this.flight!;
    const b = this.ball;
    const k = placeOnFlight(b, f, s);
    if (f.receiver >= 0) {
      busy.add(f.receiver);
      setTarget(this.targets, f.receiver, f.toX, f.toY, 7);
    }
    if (k < 1 && !isOutOfPlay(b)) return;
    this.flight = undefined;
    if (isOutOfPlay(b)) return this.ballOut(s, f);
    const kickerTeam = this.players[f.kicker].team;
    if (f.receiver < 0 || (!(f.kind === 'shot' && f.outcome === 'saved') && Math.hypot(this.players[f.receiver].x - b.x, this.players[f.receiver].y - b.y) > 3)) {
      return looseAfter(b, f);
    }
    const r = this.players[f.receiver];
    if (f.kind === 'shot' && f.outcome === 'saved') {
      const parried = this.rng.chance(0.35);
      this.emit('save', f.receiver, { outcome: parried ? 'parried' : 'held', other: this.players[f.kicker].shirt });
      if (parried) {
        // Pushed behind the goal line: corner.
        this.ballOutAt(s, this.ball.x < PITCH.lengthM / 2 ? -0.5 : PITCH.lengthM + 0.5, this.ball.y < PITCH.widthM / 2 ? 0 : PITCH.widthM, r.team);
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
    this.ballOutAt(s, b.x, b.y, deflected ? 1 - this.possession.lastTouchTeam : this.possession.lastTouchTeam);
  }

  private ballOutAt(s: number, x: number, y: number, lastTeam: number): void {
    const b = this.ball;
    b.mode = 'dead';
    b.holder = -1;
    b.z = 0;
    const { type, team, x: rx, y: ry } = restartForOut(this.rng, x, y, lastTeam, this.period);
    const taker = type === 'goal_kick' ? team * PLAYERS_PER_TEAM : nearestPlayer(this.players, team, rx, ry, true);
    const wait = type === 'throw_in' ? this.rng.range(2, 4) : this.rng.range(3.5, 6);
    this.restart = { type, team, taker, x: rx, y: ry, placeStep: s + secs(1), readyStep: s + secs(wait) };
    if (type === 'goal_kick' && this.rng.chance(0.5)) this.possession.setCalm(team, s);
    this.emit(type, taker, { other: this.players[this.possession.lastTouch]?.shirt }, team);
  }

  private stepLoose(): void {
    roll(this.ball);
    if (isOutOfPlay(this.ball)) return this.ballOut(this.stepIndex, undefined);
    const i = playerInReach(this.players, this.ball);
    if (i < 0) return;
    if (this.players[i].team !== this.possession.lastTouchTeam) this.emit('interception', i, { detail: 'loose ball' });
    this.giveBall(i, this.stepIndex);
  }

  private giveBall(i: number, s: number): void {
    const p = this.players[i];
    this.ball.mode = 'held';
    this.ball.holder = i;
    this.ball.z = 0;
    this.possession.take(i, p.team, s);
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
    busy.add(c);
    const calm = this.possession.calm[p.team];
    const target = this.possession.carrierTarget(p, this.period, s);
    setTarget(this.targets, c, target.x, target.y, target.speedMps);
    atFeet(this.ball, p);
    // Tackles: a pressing opponent at the carrier's feet may win it.
    const tackler = s - this.possession.holdSince > secs(0.5) ? findTackler(this.rng, this.players, c, calm) : -1;
    if (tackler >= 0) {
      const o = this.players[tackler];
      const intoTouch = !o.keeper && this.rng.chance(0.15);
      this.emit(o.keeper ? 'save' : 'tackle', tackler, { other: p.shirt, outcome: o.keeper ? 'claimed' : intoTouch ? 'out' : 'won' });
      if (!intoTouch) return this.giveBall(tackler, s);
      // Poked out over the nearer touchline: throw-in to the carrier's team.
      this.possession.touch(tackler, o.team);
      return this.ballOutAt(s, p.x, p.y < PITCH.widthM / 2 ? -0.5 : PITCH.widthM + 0.5, o.team);
    }
    if (s < this.possession.decideStep) return;
    const action = decideCarrier(this.rng, this.players, c, this.period, calm, this.possession.hasDribbled);
    if (action.kind === 'shoot') return this.shoot(c, s, false);
    if (action.kind === 'dribble') {
      this.possession.startDribble(s, action.durSec, action.toX, action.toY);
      const past = action.past >= 0;
      this.emit('dribble', c, { detail: past ? 'past' : 'run', other: past ? this.players[action.past].shirt : undefined });
      return;
    }
    const f = planPass(this.rng, this.players, c, action.pass, this.period, s, calm);
    if (!f) return;
    this.emitPass(f, action.pass);
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
      calm: this.possession.calm,
      runner: this.possession.runner,
      kickoff: this.restart?.type === 'kickoff' || this.clock.inBreak,
    };
    computeTargets(this.players, input, this.targets);
    movePlayers(this.players, this.targets);
    const goalDist = Math.min(b.x, PITCH.lengthM - b.x);
    this.chance = this.flight?.kind === 'shot' || (attacking >= 0 && goalDist < 22 && goalXAttacked(attacking, this.period) === (b.x < PITCH.lengthM / 2 ? 0 : PITCH.lengthM));
  }
}
