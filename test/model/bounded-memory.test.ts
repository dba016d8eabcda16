/** The real engine (tiny 1-layer model, default limits) over 240 stream-seconds: fixed bytes, bounded rows. */
import { afterAll, expect, it } from 'vitest';
import { DEFAULT_CACHE_LIMITS } from '../../src/cache/index.js';
import { StreamEngine } from '../../src/model/stream-engine.js';
import { loadTiny, pixelsFor, type Tiny } from './helpers.js';

let tiny: Tiny;
afterAll(() => tiny?.backend.dispose());

it.each(['streaming', 'refresh'] as const)('%s keeps KV bytes fixed and rows bounded by sinks + windows', async (policy) => {
  tiny ??= await loadTiny('tiny-random-1l');
  const engine = new StreamEngine(tiny.backend, tiny.tokenizer, tiny.folder.config, {
    policy,
    limits: { ...DEFAULT_CACHE_LIMITS },
    maxBytesPerStream: 64 << 20,
    prompt: '',
    sampling: { temperature: 0.9, topP: 0.9, repetitionPenalty: 1.05, seed: 3 },
    maxTokensPerSecond: 20,
    repetitionWindowTokens: 64,
  });
  await engine.restart([]);
  const bytes = engine.cache.stats().bytes;
  const pixels = pixelsFor(tiny.folder, 0);
  let maxRows = 0;
  for (let sec = 0; sec < 240; sec++) {
    const r = await engine.step({ startSec: sec, endSec: sec + 1, pixelValues: pixels, frames: 2 });
    expect(r.cache.bytes).toBe(bytes);
    expect(r.cache.rounds).toBeLessThanOrEqual(16);
    expect(r.cache.previousTextTokens).toBeLessThanOrEqual(1024);
    maxRows = Math.max(maxRows, r.cache.tokens);
  }
  const { layout } = engine.cache;
  expect(layout.previousTextTokens).toBe(1024); // 240 s of ~20 tokens/s fills sink + window
  const roundBound = 16 * (32 + 8 + 1 + 20 + 1);
  expect(maxRows).toBeLessThanOrEqual(layout.systemIds.length + 1024 + roundBound);
});
