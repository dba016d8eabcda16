import type { ModelConfig } from '../../src/model/config.js';
import type { SecondResult } from '../../src/model/stream-engine.js';
import type { EngineClient } from '../../src/stream/index.js';

/**
 * An engine that answers every second with " ok <second>" (no model, no workers): for tests of what
 * happens around the engine (sources, sessions, the server). Records each stream's opens and steps, and in
 * `sizes` the frame size of each step; answers after `stepMs` of (real or fake) timer time if given.
 */
export function fakeEngine(o: { stepMs?: number; sizes?: string[] } = {}): EngineClient & { opened: { id: string; previousTexts: string[] }[]; steps: number[] } {
  const stepMs = o.stepMs ?? 0;
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
    step: async (_id: string, f: { startSec: number; endSec: number; width: number; height: number; frames: number }) => {
      steps.push(f.startSec);
      o.sizes?.push(`${f.width}x${f.height}x${f.frames}`);
      if (stepMs > 0) await new Promise((r) => setTimeout(r, stepMs));
      return {
        startSec: f.startSec,
        endSec: f.endSec,
        text: ` ok ${f.startSec}`,
        tokenIds: [1],
        silent: false,
        evictedRounds: 0,
        timings: { visionMs: 0, prefillMs: 0, decodeMs: stepMs, totalMs: stepMs },
        cache: { tokens: 1, capacityTokens: 1, bytes: 1, rounds: 1, previousTextTokens: 0 },
      } satisfies SecondResult;
    },
  } as unknown as EngineClient & { opened: { id: string; previousTexts: string[] }[]; steps: number[] };
}

/** DevicePools with the fake engine as the one pool (what sessionFactory needs). */
export function fakePools(engine: EngineClient = fakeEngine()) {
  return { get: async () => ({ pool: engine, device: { provider: 'cpu', kv: 'host' } }) } as never;
}
