/**
 * Token bucket per client IP for stream creation: `burst` tokens, refilled at `perMinute` per
 * minute. Buckets idle long enough to be full again are forgotten, and at most `maxClients`
 * buckets are kept (the oldest is evicted), so memory stays bounded.
 */
import { SightlineError } from '../errors.js';

export interface RateLimitOptions {
  /** Tokens refilled per minute (default 30). */
  perMinute?: number;
  /** Bucket size: requests allowed back to back (default 10). */
  burst?: number;
  /** Most client buckets kept (default 10,000). */
  maxClients?: number;
  now?: () => number;
}

interface Bucket {
  tokens: number;
  updatedMs: number;
}

export class RateLimiter {
  private readonly perMs: number;
  private readonly burst: number;
  private readonly maxClients: number;
  private readonly now: () => number;
  private readonly buckets = new Map<string, Bucket>();

  constructor(options: RateLimitOptions = {}) {
    this.perMs = (options.perMinute ?? 30) / 60_000;
    this.burst = options.burst ?? 10;
    this.maxClients = options.maxClients ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /** Takes one token for `client` or throws `rate_limited`. */
  take(client: string): void {
    const nowMs = this.now();
    const bucket = this.buckets.get(client) ?? { tokens: this.burst, updatedMs: nowMs };
    bucket.tokens = Math.min(this.burst, bucket.tokens + (nowMs - bucket.updatedMs) * this.perMs);
    bucket.updatedMs = nowMs;
    // Re-insert so Map order is least-recently-used first.
    this.buckets.delete(client);
    if (bucket.tokens < 1) {
      this.buckets.set(client, bucket);
      const waitSec = Math.ceil((1 - bucket.tokens) / this.perMs / 1000);
      throw new SightlineError('rate_limited', `too many streams created from ${client}; retry in ${waitSec} s`, { retryAfterSec: waitSec });
    }
    bucket.tokens -= 1;
    this.buckets.set(client, bucket);
    while (this.buckets.size > this.maxClients) this.buckets.delete(this.buckets.keys().next().value as string);
  }
}
