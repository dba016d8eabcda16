/**
 * Exponential backoff between reconnect attempts of a live source:
 *   delay(attempt) = min(maxDelayMs, initialDelayMs * 2^(attempt - 1))
 * A run that delivered frames resets the count (the source was healthy again); `maxAttempts`
 * consecutive runs without a frame give up. The wait is cancellable, so close() never waits it out.
 */
export interface BackoffOptions {
  reconnectDelayMs: number;
  reconnectMaxDelayMs: number;
  maxReconnectAttempts: number;
}

export class ReconnectBackoff {
  private failedAttempts = 0;
  private wake: (() => void) | undefined;

  constructor(private readonly options: BackoffOptions) {}

  /** After a failed run: the next attempt number and its delay, or undefined when attempts are used up. */
  next(runDeliveredFrames: boolean): { attempt: number; delayMs: number } | undefined {
    const o = this.options;
    this.failedAttempts = runDeliveredFrames ? 1 : this.failedAttempts + 1;
    if (this.failedAttempts > o.maxReconnectAttempts) return undefined;
    const delayMs = Math.min(o.reconnectMaxDelayMs, o.reconnectDelayMs * 2 ** (this.failedAttempts - 1));
    return { attempt: this.failedAttempts, delayMs };
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      this.wake = done;
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
    });
  }

  /** Ends a pending sleep at once. */
  cancel(): void {
    this.wake?.();
  }
}
