import type { ModelConfig } from '../../src/model/config.js';
import type { SecondResult } from '../../src/model/stream-engine.js';
import type { EngineClient } from '../../src/stream/index.js';

/**
 * An engine that answers every second at once with " ok" (no model, no workers): for tests of what
 * happens around the engine (sources, sessions, the server). Records each stream's opens and steps.
 */
export function fakeEngine(): EngineClient & { opened: { id: string; previousTexts: string[] }[]; steps: number[] } {
  const config = {
    generation: { temperature: 0, topP: 1, repetitionPenalty: 1, maxTokensPerSecond: 4 },
    vision: { imageWidth: 32, imageHeight: 24, framesPerSecond: 2 },
  } as ModelConfig;
  const opened: { id: string; previousTexts: string[] }[] = [];
  const steps: number[] = [];
  return {
    config,
    opened,
    steps,
    open: async (id: string, _o: unknown, previousTexts: string[]) => {
      opened.push({ id, previousTexts });
    },
    close: async () => undefined,
    setPrompt: async () => undefined,
    step: async (_id: string, f: { startSec: number; endSec: number }) => {
      steps.push(f.startSec);
      return {
        startSec: f.startSec,
        endSec: f.endSec,
        text: ` ok ${f.startSec}`,
        tokenIds: [1],
        silent: false,
        evictedRounds: 0,
        timings: { visionMs: 0, prefillMs: 0, decodeMs: 0, totalMs: 0 },
        cache: { tokens: 1, capacityTokens: 1, bytes: 1, rounds: 1, previousTextTokens: 0 },
      } satisfies SecondResult;
    },
  } as unknown as EngineClient & { opened: { id: string; previousTexts: string[] }[]; steps: number[] };
}

/** DevicePools with the fake engine as the one pool (what sessionFactory needs). */
export function fakePools(engine: EngineClient = fakeEngine()) {
  return { get: async () => ({ pool: engine, device: { provider: 'cpu', kv: 'host' } }) } as never;
}
