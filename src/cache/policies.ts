import type { KvStore } from './kv-store.js';
import { roundPrefixTokens, roundTokens, type ContextLayout } from './layout.js';

export type CachePolicyName = 'streaming' | 'full' | 'window' | 'recompute';
export const CACHE_POLICIES: readonly CachePolicyName[] = ['streaming', 'full', 'window', 'recompute'];

export interface CacheLimits {
  /** Previous-text sink kept for good (default 512 tokens). */
  textSinkTokens: number;
  /** Previous-text sliding window (default 512 tokens). */
  textWindowTokens: number;
  /** Seconds of rounds kept with their visual tokens (default 16). */
  windowSec: number;
}

/** What to evict after a round. Policies hold no buffers; they edit the layout and the store together. */
export interface CachePolicy {
  readonly name: CachePolicyName;
  /** The system prompt (the attention sinks) is encoded; `window` drops it. */
  readonly keepsSystem: boolean;
  /** Rounds keep their visual embeddings so the whole context can be re-encoded every second. */
  readonly rebuildsEachSecond: boolean;
  /** Rounds (whole seconds) the context may hold at once, counting the one being generated. */
  maxRounds(limits: CacheLimits): number;
  /** Previous-text tokens the context may hold. */
  maxPreviousTextTokens(limits: CacheLimits): number;
  evict(layout: ContextLayout, store: KvStore, limits: CacheLimits): number;
}

/**
 * Move the oldest round's commentary into previous text: drop its header, visual and assistant rows
 * (the commentary K/V stay, re-rotated to their new positions), then trim the window to its limit.
 */
function evictOldestIntoPreviousText(layout: ContextLayout, store: KvStore, limits: CacheLimits): void {
  const round = layout.rounds[0];
  const start = layout.roundsStart;
  const cut = round.silent ? roundTokens(round) : roundPrefixTokens(round);
  store.remove(start, start + cut);
  layout.rounds.shift();
  if (round.silent) return;
  let moved = round.commentaryIds;
  const sinkRoom = limits.textSinkTokens - layout.textSinkIds.length;
  if (sinkRoom > 0 && layout.textWindowIds.length === 0) {
    layout.textSinkIds.push(...moved.slice(0, sinkRoom));
    moved = moved.slice(sinkRoom);
  }
  layout.textWindowIds.push(...moved);
  const excess = layout.textWindowIds.length - limits.textWindowTokens;
  if (excess > 0) {
    const windowStart = layout.systemIds.length + layout.textSinkIds.length;
    store.remove(windowStart, windowStart + excess);
    layout.textWindowIds.splice(0, excess);
  }
}

function dropOldestRound(layout: ContextLayout, store: KvStore): void {
  const start = layout.roundsStart;
  store.remove(start, start + roundTokens(layout.rounds[0]));
  layout.rounds.shift();
}

const streaming: CachePolicy = {
  name: 'streaming',
  keepsSystem: true,
  rebuildsEachSecond: false,
  maxRounds: (l) => l.windowSec + 1,
  maxPreviousTextTokens: (l) => l.textSinkTokens + l.textWindowTokens,
  evict(layout, store, limits) {
    let n = 0;
    for (; layout.rounds.length > limits.windowSec; n++) evictOldestIntoPreviousText(layout, store, limits);
    return n;
  },
};

const full: CachePolicy = {
  name: 'full',
  keepsSystem: true,
  rebuildsEachSecond: false,
  maxRounds: () => Number.POSITIVE_INFINITY,
  maxPreviousTextTokens: (l) => l.textSinkTokens + l.textWindowTokens,
  evict: () => 0,
};

const window: CachePolicy = {
  name: 'window',
  keepsSystem: false,
  rebuildsEachSecond: false,
  maxRounds: (l) => l.windowSec + 1,
  maxPreviousTextTokens: () => 0,
  evict(layout, store, limits) {
    let n = 0;
    for (; layout.rounds.length > limits.windowSec; n++) dropOldestRound(layout, store);
    return n;
  },
};

/**
 * Same layout and eviction as streaming (so the store stays in step between seconds), but
 * ContextCache.beginSecond() clears the store and everything is re-encoded from scratch each second.
 */
const recompute: CachePolicy = { ...streaming, name: 'recompute', rebuildsEachSecond: true };

const BY_NAME: Record<CachePolicyName, CachePolicy> = { streaming, full, window, recompute };

export function cachePolicy(name: CachePolicyName): CachePolicy {
  return BY_NAME[name];
}
