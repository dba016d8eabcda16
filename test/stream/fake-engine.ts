import type { ModelConfig } from '../../src/model/config.js';
import type { SecondResult } from '../../src/model/stream-engine.js';
import type { EngineClient } from '../../src/stream/index.js';
import { deviceFullError, type DeviceLoad } from '../../src/model/device-load.js';

export type FakeEngine = EngineClient & {
  opened: { id: string; previousTexts: string[] }[];
  steps: number[];
  /** Like EnginePool.admit, on `load` (every stream fits when the engine has none). */
  admit(id: string): void;
  /**
   * Replays `seconds` wall seconds on `load`'s (fake) clock in which each open stream spent `engineMs` of
   * engine time: the device is then measured that busy.
   */
  runFor(seconds: number, engineMs: number, advance: (ms: number) => void): void;
};

/**
 * An engine that answers every second with " ok <second>" (no model, no workers): for tests of what
 * happens around the engine (sources, sessions, the server). Records each stream's opens and steps, and in
 * `sizes` the frame size of each step; answers after `stepMs` of (real or fake) timer time if given. With
 * `load`, admits, places and forgets streams there as EnginePool does (its steps record no cost: `runFor`
 * says how busy the device is measured).
 */
export function fakeEngine(o: { stepMs?: number; sizes?: string[]; load?: DeviceLoad } = {}): FakeEngine {
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
    admit: (id: string) => {
      if (!o.load || o.load.workerOf(id) !== undefined) return;
      if (o.load.admit(id) === undefined) throw deviceFullError('cpu', o.load.snapshot());
    },
    runFor: (seconds: number, engineMs: number, advance: (ms: number) => void) => {
      for (let t = 0; t < seconds; t++) {
        advance(1000);
        for (const id of new Set(opened.map((x) => x.id))) o.load?.record(id, engineMs);
      }
    },
    open: async (id: string, _o: unknown, previousTexts: string[]) => {
      if (o.load && o.load.workerOf(id) === undefined) o.load.place(id);
      opened.push({ id, previousTexts });
    },
    close: async (id: string) => {
      o.load?.remove(id);
    },
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
        timings: { visionMs: 0, prefillMs: 0, decodeMs: stepMs, totalMs: stepMs, computeMs: stepMs },
        cache: { tokens: 1, capacityTokens: 1, bytes: 1, rounds: 1, previousTextTokens: 0 },
      } satisfies SecondResult;
    },
  } as unknown as FakeEngine;
}

/** DevicePools with the fake engine as the one pool (what sessionFactory needs). */
export function fakePools(engine: EngineClient = fakeEngine()) {
  return { get: async () => ({ pool: engine, device: { provider: 'cpu', kv: 'host' } }) } as never;
}
