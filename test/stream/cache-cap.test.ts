/**
 * The service's per-stream K/V cap (sessionEngineOptions) against the default cache window of the decoders users
 * bring (docs/byo-models.md, "Cost"): the window must fit, or the stream is refused with "does not fit".
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CACHE_LIMITS, DEFAULT_CACHE_POLICY, planCache } from '../../src/cache/index.js';
import { sessionEngineOptions } from '../../src/stream/session.js';

const generation = { temperature: 0, topP: 1, repetitionPenalty: 1, maxTokensPerSecond: 12 } as Parameters<typeof sessionEngineOptions>[0];

/** A second's round: header (<= 32) + visual rows + the assistant turn and a 12-token line. */
const plan = (geometry: { numLayers: number; numKvHeads: number; headDim: number }, visualRows: number, maxBytesPerStream?: number) => {
  const o = sessionEngineOptions(generation, { id: 's', ...(maxBytesPerStream ? { maxBytesPerStream } : {}) });
  return planCache({
    policy: o.policy,
    geometry,
    rope: { theta: 1e6, headDim: geometry.headDim },
    limits: o.limits,
    maxRoundTokens: 32 + visualRows + 4 + 12 + 1,
    maxSystemTokens: 512,
    fullCapacityTokens: 128_000,
    maxBytesPerStream: o.maxBytesPerStream,
  });
};

describe('the default per-stream cache cap', () => {
  it('uses the default policy and limits', () => {
    const o = sessionEngineOptions(generation, { id: 's' });
    expect(o.policy).toBe(DEFAULT_CACHE_POLICY);
    expect(o.limits).toEqual(DEFAULT_CACHE_LIMITS);
  });

  it.each([
    ['Qwen2.5-VL-3B (36 layers, 2 KV heads of 128; 146 rows a second at 336 x 336)', { numLayers: 36, numKvHeads: 2, headDim: 128 }, 146],
    ['SmolVLM2-500M (32 layers, 5 KV heads of 64; 2 frames of 64 rows + 3 tokens each)', { numLayers: 32, numKvHeads: 5, headDim: 64 }, 134],
  ])('holds the default window of %s, which 256 MiB did not', (_name, geometry, visualRows) => {
    const fits = plan(geometry, visualRows);
    expect(fits.fits, JSON.stringify(fits)).toBe(true);
    expect(fits.bytes).toBeGreaterThan(256 << 20);
    expect(plan(geometry, visualRows, 256 << 20).fits).toBe(false);
  });
});
