import type { FrameChunk } from '../../src/ingest/types.js';
import type { ModelConfig } from '../../src/model/config.js';
import type { SecondResult } from '../../src/model/stream-engine.js';
import type { EngineClient } from '../../src/stream/index.js';
import { framesFor } from '../model/helpers.js';

/**
 * An engine with no model: says " ok" every second, after `stepMs` of (real or fake) timer time, and
 * records the frame size of each step it was given in `sizes`.
 */
export function fakeEngine(o: { stepMs?: number; sizes?: string[]; vision?: Partial<ModelConfig['vision']> } = {}): EngineClient {
  const stepMs = o.stepMs ?? 0;
  const config = {
    generation: { temperature: 0, topP: 1, repetitionPenalty: 1, maxTokensPerSecond: 4 },
    vision: { imageWidth: 32, imageHeight: 24, framesPerSecond: 2, ...o.vision },
  } as ModelConfig;
  return {
    config,
    open: async () => undefined,
    close: async () => undefined,
    setPrompt: async () => undefined,
    step: async (_id, f) => {
      o.sizes?.push(`${f.width}x${f.height}x${f.frames}`);
      if (stepMs > 0) await new Promise((r) => setTimeout(r, stepMs));
      return {
        startSec: f.startSec,
        endSec: f.endSec,
        text: ' ok',
        tokenIds: [1],
        silent: false,
        evictedRounds: 0,
        timings: { visionMs: 0, prefillMs: 0, decodeMs: stepMs, totalMs: stepMs },
        cache: { tokens: 1, capacityTokens: 1, bytes: 1024, rounds: 1, previousTextTokens: 0 },
      } satisfies SecondResult;
    },
  } as EngineClient;
}

/** Synthetic 1-second chunks at 2 fps, 32x32, optionally paced and optionally failing after N. */
export async function* syntheticChunks(seconds: number, o: { intervalMs?: number; failAfter?: number } = {}): AsyncGenerator<FrameChunk> {
  for (let sec = 0; sec < seconds; sec++) {
    if (o.failAfter !== undefined && sec >= o.failAfter) throw Object.assign(new Error('synthetic source broke'), { code: 'source_failed' });
    if (o.intervalMs) await new Promise((r) => setTimeout(r, o.intervalMs));
    const rgb = framesFor(sec, 2, 32, 32);
    yield {
      startSec: sec,
      dropped: 0,
      frames: [0, 1].map((f) => ({ ptsSec: sec + f / 2, width: 32, height: 32, rgb: rgb.subarray(f * 3072, (f + 1) * 3072) })),
    };
  }
}
