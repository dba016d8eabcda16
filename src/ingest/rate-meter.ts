/** Events per second over a sliding window of recent events (bounded: at most `maxEvents` timestamps). */
export class RateMeter {
  private readonly timesMs: number[] = [];

  constructor(
    private readonly windowMs = 5000,
    private readonly maxEvents = 256,
  ) {}

  tick(nowMs = Date.now()): void {
    this.timesMs.push(nowMs);
    if (this.timesMs.length > this.maxEvents) this.timesMs.shift();
  }

  perSecond(nowMs = Date.now()): number {
    while (this.timesMs.length > 0 && nowMs - this.timesMs[0] > this.windowMs) this.timesMs.shift();
    if (this.timesMs.length < 2) return 0;
    const spanMs = Math.max(nowMs - this.timesMs[0], 1);
    return (this.timesMs.length / spanMs) * 1000;
  }
}
