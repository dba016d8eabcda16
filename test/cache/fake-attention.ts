/**
 * Pure-TS stand-in for a 1-layer decoder's K/V: key(id, pos) = RoPE(base(id), pos), value = base(id).
 * A 1-layer model's K/V depend only on the token and its position, so after any evictions every
 * kept row must equal what a fresh encode at its current position gives. No onnxruntime needed.
 */
import { applyRope, type CachePolicyName, type ContextCache, type ContextCacheOptions, type KvGeometry, type RoundRecord } from '../../src/cache/index.js';

export const GEOMETRY: KvGeometry = { numLayers: 2, numKvHeads: 2, headDim: 8 };
export const ROPE = { theta: 10000, headDim: 8 };
export const SYSTEM = [1, 40, 41, 42, 43, 4];

/** Small limits so a few dozen seconds exercise every eviction path. */
export function smallCacheOptions(policy: CachePolicyName, over: Partial<ContextCacheOptions> = {}): ContextCacheOptions {
  return {
    policy,
    geometry: GEOMETRY,
    rope: ROPE,
    limits: { textSinkTokens: 8, textWindowTokens: 16, windowSec: 4 },
    maxRoundTokens: 3 + 4 + 1 + 6,
    maxSystemTokens: 16,
    fullCapacityTokens: 600,
    maxBytesPerStream: 1 << 20,
    ...over,
  };
}

function base(id: number, out: Float32Array, offset: number, n: number): void {
  let s = (id * 2654435761) >>> 0;
  for (let i = 0; i < n; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    out[offset + i] = s / 2 ** 32 - 0.5;
  }
}

export function fakeRows(ids: number[], startPosition: number, invFreq: Float64Array): { keys: Float32Array[]; values: Float32Array[] } {
  const { numLayers, numKvHeads, headDim } = GEOMETRY;
  const row = numKvHeads * headDim;
  const keys: Float32Array[] = [];
  const values: Float32Array[] = [];
  for (let l = 0; l < numLayers; l++) {
    const k = new Float32Array(ids.length * row);
    const v = new Float32Array(ids.length * row);
    ids.forEach((id, t) => {
      base(id * 31 + l, v, t * row, row);
      base(id * 31 + l, k, t * row, row);
      for (let h = 0; h < numKvHeads; h++) applyRope(k, t * row + h * headDim, invFreq, startPosition + t);
    });
    keys.push(k);
    values.push(v);
  }
  return { keys, values };
}

/** Encode `ids` at the store's end (one fake decoder call). Visual rows use ids >= 1_000_000. */
export function appendIds(cache: ContextCache, ids: number[], invFreq: Float64Array): void {
  const { keys, values } = fakeRows(ids, cache.store.length, invFreq);
  cache.store.append(keys, values, ids.length);
}

/** Identity of each row: text ids as they are, visual rows by the fake id their embedding encodes. */
export function rowIds(cache: ContextCache): number[] {
  const out: number[] = [...cache.layout.systemIds, ...cache.layout.textSinkIds, ...cache.layout.textWindowIds];
  for (const r of cache.layout.rounds) {
    out.push(...r.headerIds);
    for (let i = 0; i < r.visualTokens; i++) out.push(visualId(r.startSec, i));
    out.push(...r.assistantIds, ...r.commentaryIds);
  }
  return out;
}

export const visualId = (sec: number, i: number): number => 1_000_000 + sec * 64 + i;

/** One simulated second: catch up, append a round, "generate" `words` tokens, commit, evict. */
/** Encode the rows the layout holds and the store lacks (a reset, a rebuild, a re-encoding eviction). */
export function catchUp(cache: ContextCache, invFreq: Float64Array): void {
  for (const m of cache.missingRows()) {
    if (m.kind === 'ids') appendIds(cache, m.ids, invFreq);
    else appendIds(cache, Array.from(m.embeds.subarray(0, m.rows), (x) => Math.round(x)), invFreq);
  }
}

export function simulateSecond(cache: ContextCache, sec: number, words: number, invFreq: Float64Array): number {
  cache.beginSecond();
  catchUp(cache, invFreq);
  const silent = words === 0;
  const commentary = silent ? [7, 4] : Array.from({ length: words }, (_, i) => 100 + ((sec * 7 + i) % 50)).concat(4);
  const visual = Array.from({ length: 4 }, (_, i) => visualId(sec, i));
  const round: RoundRecord = {
    startSec: sec,
    endSec: sec + 1,
    headerIds: [2, 10 + (sec % 10), 20],
    visualTokens: visual.length,
    // The fake "embedding" of a visual row is its id, so a rebuild can re-derive the row.
    visualEmbeds: Float32Array.from(visual),
    assistantIds: [3],
    commentaryIds: commentary,
    silent,
  };
  const fit = cache.canFit(3 + 4 + 1 + commentary.length);
  if (!fit.fits) return -1;
  appendIds(cache, [...round.headerIds, ...visual, ...round.assistantIds, ...commentary], invFreq);
  cache.commitRound(round);
  return cache.evict();
}

/** Largest |difference| between each kept row and a fresh encode of the same rows at 0..n-1. */
export function maxDiffFromFresh(cache: ContextCache, invFreq: Float64Array): number {
  const ids = rowIds(cache);
  const fresh = fakeRows(ids, 0, invFreq);
  let max = 0;
  for (let l = 0; l < GEOMETRY.numLayers; l++) {
    const k = cache.store.keyView(l);
    const v = cache.store.valueView(l);
    if (k.length !== fresh.keys[l].length) return Number.POSITIVE_INFINITY;
    for (let i = 0; i < k.length; i++) {
      max = Math.max(max, Math.abs(k[i] - fresh.keys[l][i]), Math.abs(v[i] - fresh.values[l][i]));
    }
  }
  return max;
}
