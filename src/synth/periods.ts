import { WORLD_HZ } from './pitch.js';

export type PeriodChange = 'half_time' | 'full_time' | 'resume' | 'new_match';

/**
 * The match clock: two halves of `halfSteps` ticks, a short break after each, and after full time a
 * new match (the stream is endless). The clock keeps running through breaks, as on a broadcast.
 */
export class PeriodClock {
  /** 0 = first half, 1 = second half. */
  period = 0;
  private matchStartStep = 0;
  private breakUntil = -1;
  private breakEndsMatch = false;

  constructor(
    private readonly halfSteps: number,
    private readonly breakSteps = 3 * WORLD_HZ,
  ) {}

  get inBreak(): boolean {
    return this.breakUntil >= 0;
  }

  clockSec(step: number): number {
    return (step - this.matchStartStep) / WORLD_HZ;
  }

  /** What changes at tick `step`, if anything; call once per tick before play. */
  tick(step: number): PeriodChange | undefined {
    if (this.breakUntil < 0 && step - this.matchStartStep >= (this.period + 1) * this.halfSteps) {
      this.breakUntil = step + this.breakSteps;
      this.breakEndsMatch = this.period >= 1;
      return this.breakEndsMatch ? 'full_time' : 'half_time';
    }
    if (this.breakUntil < 0 || step < this.breakUntil) return undefined;
    this.breakUntil = -1;
    if (!this.breakEndsMatch) {
      this.period = 1;
      return 'resume';
    }
    this.period = 0;
    this.matchStartStep = step;
    return 'new_match';
  }
}
