import { WORLD_HZ } from './pitch.js';
import type { MatchEvent, WorldVersion } from './types.js';

/**
 * When world 2 shows the score overlay, in seconds (world 1 always shows it): after a goal, at the
 * kick-off of each half, and a few seconds every few minutes of the match clock, as broadcasts do.
 * Between those the score has to be remembered.
 */
export const SCOREBOARD_TIMES = { afterGoalSec: 10, halfStartSec: 12, everySec: 180, forSec: 5 } as const;

/** What the schedule reads of the match each tick. */
export interface ScheduleView {
  readonly stepIndex: number;
  readonly period: number;
  readonly clockSec: number;
}

/** Fed once per tick after the world stepped; answers whether the scoreboard is on screen now. */
export class ScoreboardSchedule {
  private lastGoalStep = -Infinity;
  private periodStartStep = 0;
  private period = 0;
  private clockSec = 0;
  visible = true;

  constructor(private readonly world: WorldVersion) {}

  update(m: ScheduleView, events: readonly MatchEvent[]): void {
    if (this.world === 1) return;
    // A new half (period changes) or a new match (the clock starts again) restarts the kick-off window.
    if (m.period !== this.period || m.clockSec < this.clockSec) this.periodStartStep = m.stepIndex;
    this.period = m.period;
    this.clockSec = m.clockSec;
    if (events.some((e) => e.type === 'goal')) this.lastGoalStep = m.stepIndex;
    const t = SCOREBOARD_TIMES;
    this.visible =
      m.stepIndex - this.lastGoalStep < t.afterGoalSec * WORLD_HZ ||
      m.stepIndex - this.periodStartStep < t.halfStartSec * WORLD_HZ ||
      m.clockSec % t.everySec < t.forSec;
  }
}
