import { Rng } from './rng.js';
import { ordinal, scoreLine } from './phrases.js';
import type { EventType, MatchEvent } from './types.js';

/** The transcript text of a second with nothing worth saying (Inf-Streams convention). */
export const SILENCE = ' ...';

export interface Ctx {
  team: string;
  opp: string;
  n: number;
  o: number | undefined;
  e: MatchEvent;
  score: string;
  minute: string;
}

type Template = (c: Ctx) => string;

const who = (c: Ctx): string => `number ${c.n}`;

/** At least four phrasings per event type; every one names the acting team. */
export const TEMPLATES: Record<EventType, readonly Template[]> = {
  kickoff: [
    (c) => `${c.team} kick off against ${c.opp}.`,
    (c) => `And we're under way again, ${c.team} get it started.`,
    (c) => `${c.team} restart from the centre spot.`,
    (c) => `The whistle goes and ${c.team} tap it off against ${c.opp}.`,
  ],
  pass: [
    (c) => (c.e.detail === 'long' ? `Long ball forward from ${c.team}.` : `${c.team} keep it moving.`),
    (c) => (c.e.detail === 'cross' ? `${c.team} whip the cross into the box!` : `Neat ball from ${c.team}'s ${who(c)}.`),
    (c) => (c.e.detail === 'throw' ? `${c.team} take the throw quickly.` : `${c.team} knock it about patiently.`),
    (c) => (c.e.detail === 'long' ? `${c.team} go long, looking for a runner.` : `Simple pass from ${c.team}'s ${who(c)}.`),
    (c) => `${c.team} work it along, ${who(c)} finds a team-mate.`,
  ],
  dribble: [
    (c) => (c.e.detail === 'past' ? `Lovely skill from ${c.team}'s ${who(c)}, he's away from number ${c.o}!` : `${c.team}'s ${who(c)} carries it forward.`),
    (c) => `${who(c)} drives at the ${c.opp} defence for ${c.team}.`,
    (c) => `${c.team} break forward, ${who(c)} on the ball.`,
    (c) => (c.e.detail === 'past' ? `${c.team} beat their man and surge on.` : `${c.team} push up the pitch.`),
  ],
  tackle: [
    (c) => `Strong tackle from ${c.team}'s ${who(c)}!`,
    (c) => `${c.team} win it back, ${who(c)} with the challenge.`,
    (c) => (c.e.outcome === 'out' ? `${c.team} poke it away into touch.` : `Great challenge, ${c.team} have the ball now.`),
    (c) => `${who(c)} steps in and ${c.team} take it off ${c.opp}.`,
  ],
  interception: [
    (c) => `Intercepted! ${c.team} read that well.`,
    (c) => (c.e.detail === 'blocked shot' ? `Blocked! ${c.team} throw bodies in the way.` : `${c.team}'s ${who(c)} cuts it out.`),
    (c) => `${c.team} pick off the loose pass.`,
    (c) => `Possession changes hands, ${c.team} on the ball now.`,
  ],
  shot: [
    (c) => `${c.team}'s ${who(c)} shoots!`,
    (c) => (c.e.detail === 'header' ? `Header from ${c.team}!` : `${who(c)} lets fly for ${c.team}!`),
    (c) => (c.e.detail === 'long range' ? `${c.team} try their luck from distance!` : `${c.team} get a shot away!`),
    (c) => `Chance for ${c.team}... ${who(c)} strikes!`,
  ],
  save: [
    (c) => `Saved by the ${c.team} keeper!`,
    (c) => (c.e.outcome === 'parried' ? `${c.team}'s keeper pushes it round the post!` : `The ${c.team} goalkeeper gathers it.`),
    (c) => `Good hands from ${c.team}'s number ${c.n}.`,
    (c) => `${c.team}'s keeper denies ${c.opp}!`,
  ],
  goal: [
    (c) => `GOAL! ${c.team} score through ${who(c)}! ${cap(c.score)} in the ${c.minute} minute.`,
    (c) => `It's in! ${who(c)} finds the net for ${c.team}, ${c.score}.`,
    (c) => `Goal for ${c.team}! ${cap(c.score)}, ${c.minute} minute.`,
    (c) => `${c.team} have scored! ${who(c)} with the finish, ${c.score}.`,
  ],
  throw_in: [
    (c) => `Throw-in to ${c.team}.`,
    (c) => `Out of play, ${c.team} will throw it in.`,
    (c) => `${c.team} get the throw down the line.`,
    (c) => `That's gone out, ${c.team} throw.`,
  ],
  corner: [
    (c) => `Corner to ${c.team}!`,
    (c) => `${c.team} win a corner.`,
    (c) => `That's behind, corner kick for ${c.team}.`,
    (c) => `${c.opp} concede the corner, ${c.team} to take it.`,
  ],
  goal_kick: [
    (c) => `Goal kick to ${c.team}.`,
    (c) => `Wide of the mark, ${c.team} will restart with a goal kick.`,
    (c) => `${c.team}'s keeper will take the goal kick.`,
    (c) => `Off target, goal kick for ${c.team}.`,
  ],
  half_time: [
    (c) => `Half-time here, ${c.e.detail}.`,
    (c) => `The referee blows for half-time: ${c.e.detail}.`,
    (c) => `That's the break, ${c.e.detail}.`,
    (c) => `Half-time whistle, and it's ${c.e.detail}.`,
  ],
  full_time: [
    (c) => `Full time! ${c.e.detail}.`,
    (c) => `It's all over: ${c.e.detail}.`,
    (c) => `The final whistle goes, ${c.e.detail}.`,
    (c) => `That's full time, ${c.e.detail}.`,
  ],
};

const cap = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/** How newsworthy an event is; the highest in a second is the one described. */
export const PRIORITY: Record<EventType, number> = {
  goal: 10, full_time: 9, half_time: 9, save: 8, shot: 7, kickoff: 6, corner: 6,
  tackle: 4, interception: 4, dribble: 3, goal_kick: 3, throw_in: 3, pass: 1,
};

/** Events worth a line: everything but routine passing (short passes and throws are left unsaid). */
export function isWorthSaying(e: MatchEvent): boolean {
  if (e.type !== 'pass') return true;
  return e.detail === 'long' || e.detail === 'cross';
}

/** The event a second's line describes: the most newsworthy, the earliest on a tie. */
export function headlineEvent(events: readonly MatchEvent[]): MatchEvent | undefined {
  let top: MatchEvent | undefined;
  for (const e of events) if (!top || PRIORITY[e.type] > PRIORITY[top.type]) top = e;
  return top;
}

/**
 * Per-second commentary in a broadcaster's voice. Deterministic: one generator per match, fed every
 * second in order. A second is silent (" ...") unless it holds an event worth a line (see isWorthSaying); routine passing
 * goes unsaid, so the transcript has quiet spells, as a real broadcast does.
 */
export class Commentator {
  private readonly rng: Rng;

  constructor(seed: number, private readonly teamNames: readonly [string, string]) {
    this.rng = Rng.derive(seed, 'commentary');
  }

  /** The line for one second given its events (in time order). Always draws the same randoms per second. */
  lineFor(events: readonly MatchEvent[]): string {
    const pickRoll = this.rng.next();
    const tailRoll = this.rng.next();
    const top = headlineEvent(events);
    if (!top) return this.silent();
    const p = PRIORITY[top.type];
    // Whether a second is voiced follows from what can be seen (the event and its kind), never from a coin
    // flip: a commentary model can learn it from pictures, and evaluation can hold it to it.
    if (!isWorthSaying(top)) return this.silent();
    const c: Ctx = {
      team: top.team,
      opp: this.teamNames[1 - top.teamIndex],
      n: top.player,
      o: top.other,
      e: top,
      score: scoreLine(this.teamNames, top.score),
      minute: ordinal(top.minute),
    };
    const templates = TEMPLATES[top.type];
    let text = cap(templates[Math.floor(pickRoll * templates.length)](c));
    if (p >= 3 && p < 10 && top.type !== 'half_time' && top.type !== 'full_time' && tailRoll < 0.15) {
      text += ` ${cap(c.score)} in the ${c.minute} minute.`;
    }
    return text;
  }

  private silent(): string {
    return SILENCE;
  }
}
