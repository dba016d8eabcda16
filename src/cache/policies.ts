import type { KvStore } from './kv-store.js';
import { roundPrefixTokens, roundTokens, type ContextLayout } from './layout.js';

export type CachePolicyName = 'streaming' | 'refresh' | 'full' | 'window' | 'recompute';
export const CACHE_POLICIES: readonly CachePolicyName[] = ['streaming', 'refresh', 'full', 'window', 'recompute'];
/**
 * The service's policy unless one is asked for: the default model meets its goal recall with it, not with
 * `streaming` (docs/commentator-model.md: 62 of 64 test goals against 57), for about 5x the decoder rows.
 */
export const DEFAULT_CACHE_POLICY: CachePolicyName = 'refresh';

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
  /** Rounds keep their visual embeddings because eviction may drop their rows to be re-encoded. */
  readonly keepsVisualEmbeds: boolean;
  /** Rounds (whole seconds) the context may hold at once, counting the one being generated. */
  maxRounds(limits: CacheLimits): number;
  /** Previous-text tokens the context may hold. */
  maxPreviousTextTokens(limits: CacheLimits): number;
  evict(layout: ContextLayout, store: KvStore, limits: CacheLimits): number;
}

/**
 * Move the oldest round's commentary into previous text: drop its header, visual and assistant rows
 * (the commentary K/V stay, re-rotated to their new positions), then trim the window to its limit.
 * With `reencode` a spoken line's rows go too, with every later round's, for the engine to encode again.
 */
function evictOldestIntoPreviousText(layout: ContextLayout, store: KvStore, limits: CacheLimits, reencode = false): void {
  const round = layout.rounds[0];
  const start = layout.roundsStart;
  if (reencode && !round.silent) {
    // The line's K/V were computed inside its round, attending to pictures that are about to go; training
    // encodes previous text on its own. Drop the line and every round after it: the engine re-encodes them
    // (missingRows) before the next round, the line now attending to system and previous text only.
    store.truncate(Math.min(store.length, start));
  } else if (store.length > start) {
    // (A re-encoding policy may already have dropped these rows with an earlier line in the same call.)
    const cut = round.silent ? roundTokens(round) : roundPrefixTokens(round);
    store.remove(start, start + cut);
  }
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
    store.remove(windowStart, Math.min(store.length, windowStart + excess));
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
  keepsVisualEmbeds: false,
  maxRounds: (l) => l.windowSec + 1,
  maxPreviousTextTokens: (l) => l.textSinkTokens + l.textWindowTokens,
  evict(layout, store, limits) {
    let n = 0;
    for (; layout.rounds.length > limits.windowSec; n++) evictOldestIntoPreviousText(layout, store, limits);
    return n;
  },
};

/**
 * Streaming, but a spoken line moving into previous text is re-encoded as training encodes previous text
 * (and the window's rounds after it with it), instead of keeping the K/V it got inside its round. Costs a
 * re-encode of the vision window (about windowSec rounds) in each second after a line moves.
 */
const refresh: CachePolicy = {
  ...streaming,
  name: 'refresh',
  keepsVisualEmbeds: true,
  evict(layout, store, limits) {
    let n = 0;
    for (; layout.rounds.length > limits.windowSec; n++) evictOldestIntoPreviousText(layout, store, limits, true);
    return n;
  },
};

const full: CachePolicy = {
  name: 'full',
  keepsSystem: true,
  rebuildsEachSecond: false,
  keepsVisualEmbeds: false,
  maxRounds: () => Number.POSITIVE_INFINITY,
  maxPreviousTextTokens: (l) => l.textSinkTokens + l.textWindowTokens,
  evict: () => 0,
};

const window: CachePolicy = {
  name: 'window',
  keepsSystem: false,
  rebuildsEachSecond: false,
  keepsVisualEmbeds: false,
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
const recompute: CachePolicy = { ...streaming, name: 'recompute', rebuildsEachSecond: true, keepsVisualEmbeds: true };

const BY_NAME: Record<CachePolicyName, CachePolicy> = { streaming, refresh, full, window, recompute };

export function cachePolicy(name: CachePolicyName): CachePolicy {
  return BY_NAME[name];
}
