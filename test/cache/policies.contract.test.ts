/** One contract suite run against every cache policy (pure TS, fake 1-layer attention). */
import { describe, expect, it } from 'vitest';
import {
  CACHE_POLICIES,
  ContextCache,
  inverseFrequencies,
  planCache,
  type CachePolicyName,
  type ContextCacheOptions,
} from '../../src/cache/index.js';
import { GEOMETRY, ROPE, SYSTEM, catchUp, maxDiffFromFresh, simulateSecond, smallCacheOptions } from './fake-attention.js';

const invFreq = inverseFrequencies(ROPE);
const options = smallCacheOptions;

function makeCache(policy: CachePolicyName, over: Partial<ContextCacheOptions> = {}): ContextCache {
  const cache = new ContextCache(options(policy, over));
  cache.reset(SYSTEM, []);
  return cache;
}

/** 0..5 words a second, every fourth second silent. */
const wordsAt = (sec: number): number => (sec % 4 === 3 ? 0 : 1 + (sec % 5));

describe.each(CACHE_POLICIES)('cache policy %s (contract)', (policy) => {
  it('keeps rows equal to a fresh encode at contiguous positions after many seconds', () => {
    const cache = makeCache(policy);
    for (let sec = 0; sec < 40; sec++) {
      if (simulateSecond(cache, sec, wordsAt(sec), invFreq) < 0) break;
      catchUp(cache, invFreq); // what the next second does first (refresh re-encodes what it evicted)
      expect(cache.store.length).toBe(cache.layout.totalTokens);
      expect(maxDiffFromFresh(cache, invFreq)).toBeLessThanOrEqual(1e-5);
    }
  });

  it('never grows its buffers and respects its layout limits', () => {
    const cache = makeCache(policy);
    const bytes = cache.store.bytes;
    for (let sec = 0; sec < 40; sec++) {
      if (simulateSecond(cache, sec, wordsAt(sec), invFreq) < 0) break;
      expect(cache.store.bytes).toBe(bytes);
      expect(cache.layout.textSinkIds.length).toBeLessThanOrEqual(8);
      expect(cache.layout.textWindowIds.length).toBeLessThanOrEqual(16);
      if (policy !== 'full') expect(cache.layout.rounds.length).toBeLessThanOrEqual(4);
    }
  });

  it('reports "does not fit" as a value instead of growing', () => {
    const cache = makeCache(policy, { fullCapacityTokens: 120 });
    const fit = cache.canFit(cache.store.capacityTokens + 1);
    expect(fit).toEqual({ fits: false, neededTokens: cache.store.capacityTokens + 1, freeTokens: expect.any(Number) });
    expect(() => cache.store.append([], [], cache.store.capacityTokens + 1)).toThrow(/KV cache full/);
  });

  it('refuses a plan over the per-stream byte cap', () => {
    const plan = planCache(options(policy, { maxBytesPerStream: 1000 }));
    expect(plan.fits).toBe(false);
    expect(() => new ContextCache(options(policy, { maxBytesPerStream: 1000 }))).toThrow(/does not fit/);
  });
});

describe('policy-specific layout', () => {
  it('streaming moves spoken commentary into previous text and drops silent rounds whole', () => {
    const cache = makeCache('streaming', { limits: { textSinkTokens: 4, textWindowTokens: 1000, windowSec: 2 } });
    simulateSecond(cache, 0, 3, invFreq); // 3 words + end
    simulateSecond(cache, 1, 0, invFreq); // silent
    simulateSecond(cache, 2, 2, invFreq);
    simulateSecond(cache, 3, 1, invFreq); // evicts second 0 and 1
    const prev = [...cache.layout.textSinkIds, ...cache.layout.textWindowIds];
    expect(prev).toEqual([100, 101, 102, 4]);
    expect(cache.layout.textSinkIds).toHaveLength(4);
    expect(cache.layout.rounds.map((r) => r.startSec)).toEqual([2, 3]);
  });

  it('refresh drops a moving line and the rounds after it, to be encoded again after the previous text', () => {
    const cache = makeCache('refresh', { limits: { textSinkTokens: 4, textWindowTokens: 1000, windowSec: 2 } });
    simulateSecond(cache, 0, 0, invFreq); // silent: dropped whole, nothing to re-encode
    simulateSecond(cache, 1, 2, invFreq);
    expect(simulateSecond(cache, 2, 1, invFreq)).toBe(1);
    expect(cache.store.length).toBe(cache.layout.totalTokens);
    expect(simulateSecond(cache, 3, 1, invFreq)).toBe(1); // second 1's line moves
    const line = [...cache.layout.textSinkIds, ...cache.layout.textWindowIds];
    expect(line).toEqual([100 + 7, 100 + 8, 4]);
    expect(cache.store.length).toBe(SYSTEM.length);
    const missing = cache.missingRows();
    expect(missing[0]).toEqual({ kind: 'ids', ids: line });
    // ... then both kept rounds, visual rows from their kept embeddings.
    expect(missing.filter((m) => m.kind === 'visual')).toHaveLength(2);
    catchUp(cache, invFreq);
    expect(cache.store.length).toBe(cache.layout.totalTokens);
    expect(maxDiffFromFresh(cache, invFreq)).toBeLessThanOrEqual(1e-5);
  });

  it('streaming trims the window but keeps the text sink for good', () => {
    const cache = makeCache('streaming', { limits: { textSinkTokens: 4, textWindowTokens: 6, windowSec: 1 } });
    for (let sec = 0; sec < 30; sec++) simulateSecond(cache, sec, 5, invFreq);
    expect(cache.layout.textSinkIds).toEqual([100, 101, 102, 103]);
    expect(cache.layout.textWindowIds).toHaveLength(6);
    expect(cache.layout.textWindowIds.at(-1)).toBe(4);
    expect(maxDiffFromFresh(cache, invFreq)).toBeLessThanOrEqual(1e-5);
  });

  it('window keeps neither system prompt nor previous text', () => {
    const cache = makeCache('window');
    for (let sec = 0; sec < 10; sec++) simulateSecond(cache, sec, 3, invFreq);
    expect(cache.layout.systemIds).toEqual([]);
    expect(cache.layout.previousTextTokens).toBe(0);
    expect(cache.layout.rounds.map((r) => r.startSec)).toEqual([6, 7, 8, 9]);
  });

  it('full keeps every round until it does not fit', () => {
    const cache = makeCache('full', { fullCapacityTokens: 120 });
    let sec = 0;
    while (simulateSecond(cache, sec, 5, invFreq) >= 0) sec++;
    expect(sec).toBeGreaterThan(3);
    expect(cache.layout.rounds).toHaveLength(sec);
  });

  it('recompute re-encodes everything each second', () => {
    const cache = makeCache('recompute');
    for (let sec = 0; sec < 10; sec++) simulateSecond(cache, sec, 2, invFreq);
    cache.beginSecond();
    expect(cache.store.length).toBe(0);
    const missing = cache.missingRows().reduce((n, m) => n + (m.kind === 'ids' ? m.ids.length : m.rows), 0);
    expect(missing).toBe(cache.layout.totalTokens);
  });
});

describe('bounded memory', () => {
  it.each(['streaming', 'window', 'recompute'] as const)('%s: 10,000 simulated seconds keep bytes and rows bounded', (policy) => {
    const cache = makeCache(policy, { limits: { textSinkTokens: 32, textWindowTokens: 64, windowSec: 16 } });
    const bytes = cache.store.bytes;
    let maxTokensAfterWarmup = 0;
    let tokensAtWarmup = 0;
    for (let sec = 0; sec < 10_000; sec++) {
      simulateSecond(cache, sec, 1 + (sec % 5), invFreq);
      if (sec === 200) tokensAtWarmup = cache.store.length;
      if (sec > 200) maxTokensAfterWarmup = Math.max(maxTokensAfterWarmup, cache.store.length);
    }
    expect(cache.store.bytes).toBe(bytes);
    expect(maxTokensAfterWarmup).toBeLessThanOrEqual(cache.store.capacityTokens);
    expect(Math.abs(maxTokensAfterWarmup - tokensAtWarmup)).toBeLessThanOrEqual(16 * 6);
    expect(maxDiffFromFresh(cache, invFreq)).toBeLessThanOrEqual(1e-4);
  });
});
