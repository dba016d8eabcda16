/**
 * src/cache — StreamingVLM KV cache for one stream (pure TypeScript, no model, no session policy).
 *
 * Rows of the per-stream store (row index == RoPE position, no gaps; a multimodal-RoPE model's picture rows
 * share positions instead, KvStore.positions, row-positions.ts):
 *
 *   0                 S           S+TS          S+TS+TW                                 length   capacity
 *   | system prompt    | text sink  | text window  | round k-W+1 | ... | round k            |  free   |
 *   | (attention sinks,| previous text (evicted     | each round: Time=a-b s header,        |         |
 *   |  kept for good)  |  commentary), <=512 | <=512| visual tokens, <|assistant|>,         |         |
 *   |                  | kept for good | sliding    | commentary + <|end|>                  |         |
 *
 * Eviction, once per second, whole rounds, oldest first (policy `streaming`):
 *   1. drop the oldest round's header + visual + assistant rows; its commentary rows stay where they are
 *      and become the newest previous text (silent rounds " ..." are dropped whole);
 *   2. if the text window is over its limit, drop its oldest rows (just after the text sink);
 *   each drop moves the later rows down and rotates their keys by -gap (keys are cached after RoPE; the gap
 *   in positions, which for a picture's rows is fewer than its rows).
 * Policy `refresh` (the service default) keeps the layout but not a spoken line's rows: it drops them and
 * every later round's, and the next second re-encodes them after the previous text, as training does.
 *
 * Invariants (asserted in ContextCache and in test/cache):
 *   - between seconds, store.length === layout.totalTokens (refresh: once the next second has caught up)
 *     and row i was encoded at position i (at store.positions.at(i) for multimodal RoPE);
 *   - store.capacityTokens is fixed at creation (planCache) and bytes never change afterwards;
 *   - system <= maxSystemTokens, text sink <= textSinkTokens, text window <= textWindowTokens,
 *     rounds <= windowSec after eviction (streaming, refresh, window, recompute); `full` never evicts and reports
 *     "does not fit" (FitCheck) when the next round would pass its capacity.
 */
export { HeadMajorKvOps, headToSeqMajor } from './head-major-kv.js';
export { AXES, RowPositions } from './row-positions.js';
export { HostKvOps, KvStore, type KvGeometry, type KvOps, type KvRows, type RowRotation } from './kv-store.js';
export { ContextLayout, roundTokens, roundPrefixTokens, type RoundRecord } from './layout.js';
export { CACHE_POLICIES, DEFAULT_CACHE_POLICY, cachePolicy, type CacheLimits, type CachePolicy, type CachePolicyName } from './policies.js';
export {
  ContextCache,
  bytesPerToken,
  planCache,
  type CachePlan,
  type ContextCacheOptions,
  type FitCheck,
  type MissingRows,
} from './context-cache.js';
export { applyRope, inverseFrequencies, rotateKeyRows, rotateRowsWith, type RopeParams } from './rope.js';

export const DEFAULT_CACHE_LIMITS = { textSinkTokens: 512, textWindowTokens: 512, windowSec: 16 } as const;
