/**
 * Cache equivalence with the real tiny models. What is compared, precisely: the next-token logits for a
 * probe token appended to the stream's cache after many seconds (and evictions), against the logits of
 * a FRESH encode of exactly the kept rows (same text ids, visual rows re-encoded from the same frames)
 * at contiguous positions 0..n-1 followed by the probe. Max abs diff <= 1e-4.
 *
 * - 1 layer: exact for every policy (layer-0 K/V depend only on the token and its position, so moved,
 *   re-rotated K/V equal freshly computed ones).
 * - 2 layers: exact for `full` (nothing evicted) and `recompute` (everything re-encoded). For `streaming`
 *   and `window`, kept rows' layer-1 K/V saw the evicted tokens, so no cache equals a fresh recompute;
 *   there the RoPE re-indexing itself is checked exactly in numerics.test.ts (shift by -100).
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { CachePolicyName } from '../../src/cache/index.js';
import type { KvResidence } from '../../src/model/onnx-backend.js';
import { StreamEngine } from '../../src/model/stream-engine.js';
import { freshLogits, loadTiny, maxAbsDiff, pixelsFor, smallCacheEngineOptions, type Tiny } from './helpers.js';

const SECONDS = 24;

async function runStream(tiny: Tiny, policy: CachePolicyName): Promise<StreamEngine> {
  const engine = new StreamEngine(tiny.backend, tiny.tokenizer, tiny.folder.config, smallCacheEngineOptions(policy));
  await engine.restart([' Kick off.', ' Silva passes.']);
  for (let sec = 0; sec < SECONDS; sec++) {
    await engine.step({ startSec: sec, endSec: sec + 1, pixelValues: pixelsFor(tiny.folder, sec), frames: 2 });
  }
  return engine;
}

// `device`: the cache on the ONNX-graph ops (the code path that keeps it on the GPU), here on the CPU provider.
const cases: [name: 'tiny-random-1l' | 'tiny-random-2l', kv: KvResidence, policies: CachePolicyName[]][] = [
  ['tiny-random-1l', 'host', ['streaming', 'window', 'full', 'recompute']],
  ['tiny-random-2l', 'host', ['full', 'recompute']],
  ['tiny-random-1l', 'device', ['streaming', 'window', 'full', 'recompute']],
  ['tiny-random-2l', 'device', ['full', 'recompute']],
];

describe.each(cases)('%s, K/V on %s ops: cache == fresh recompute over the kept rows', (name, kv, policies) => {
  let tiny: Tiny;
  afterAll(() => tiny?.backend.dispose());

  it.each(policies)('%s', async (policy) => {
    tiny ??= await loadTiny(name, kv);
    const engine = await runStream(tiny, policy);
    const { cache } = engine;
    if (policy === 'streaming') expect(cache.layout.previousTextTokens).toBeGreaterThan(0);
    if (policy !== 'full') expect(cache.layout.rounds.length).toBe(3);
    const probe = tiny.tokenizer.encode(' Goal')[0];
    const expected = await freshLogits(tiny, cache, probe);
    cache.beginSecond();
    // recompute: the engine re-encodes at the start of the next second; do the same before probing.
    if (policy === 'recompute') await (engine as unknown as { catchUp(): Promise<void> }).catchUp();
    const actual = await tiny.backend.decode(await tiny.backend.embedIds([probe]), 1, cache.store);
    expect(maxAbsDiff(actual, expected)).toBeLessThanOrEqual(1e-4);
  });
});
