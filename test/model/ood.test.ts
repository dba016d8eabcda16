/**
 * The commentator's out-of-domain signal (src/model/ood.ts): the shipped model's ood.json scores a
 * synthetic-match second far below its threshold and an ffmpeg test-card second above it, the engine stays
 * silent on the test card, the gate does not flip on one odd second, and a bad ood.json is one clear error.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ffmpegPath } from '../../src/ingest/ffmpeg-binary.js';
import { SHIPPED_MODEL_DIR } from '../../src/model/default-model.js';
import { loadModelFolder } from '../../src/model/model-folder.js';
import { loadOodStats, OodGate, secondScore, type OodStats } from '../../src/model/ood.js';
import { framesToPixelValues } from '../../src/model/preprocess.js';
import { StreamEngine } from '../../src/model/stream-engine.js';
import { frames } from '../../src/synth/index.js';
import { sessionEngineOptions } from '../../src/stream/index.js';
import { loadModel, type Tiny } from './helpers.js';

const W = 256;
const H = 144;

/** Two frames (one second at 2 fps) of the synthetic world, rendered at the model's size. */
function matchSecond(seed: number, sec: number): Uint8Array {
  const out = new Uint8Array(2 * W * H * 3);
  let i = 0;
  for (const f of frames(seed, { widthPx: W, heightPx: H, fps: 2, seconds: sec + 1 })) {
    if (f.index >= 2 * sec) out.set(f.rgb, (i++) * W * H * 3);
  }
  return out;
}

/** Two frames of an ffmpeg lavfi test source at the model's size. */
function lavfiSecond(source: string): Uint8Array {
  const r = spawnSync(ffmpegPath(), ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', `${source}=size=${W}x${H}:rate=2`, '-frames:v', '2', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`ffmpeg ${source}: ${r.stderr}`);
  return new Uint8Array(r.stdout);
}

describe('out-of-domain signal of the shipped commentator', () => {
  let model: Tiny;
  let stats: OodStats;
  const visual = async (rgb: Uint8Array): Promise<Float32Array> => model.backend.encodeFrames(framesToPixelValues(rgb, 2, W, H, model.folder.config.vision), 2);

  beforeAll(async () => {
    model = await loadModel(SHIPPED_MODEL_DIR);
    stats = model.folder.ood!;
  });
  afterAll(() => model?.backend.dispose());

  it('ships ood.json: what the model knows, a threshold, and a gate that leaves below where it enters', () => {
    expect(stats).toBeDefined();
    expect(stats.domain).toMatch(/synthetic/);
    expect(stats.exit).toBeLessThanOrEqual(stats.enter);
  });

  it('a synthetic match second scores below the threshold; testsrc2 and smptebars seconds above it', async () => {
    const d = model.backend.hiddenSize;
    const match = secondScore(stats, await visual(matchSecond(300_001, 20)), d)!;
    const testsrc = secondScore(stats, await visual(lavfiSecond('testsrc2')), d)!;
    const bars = secondScore(stats, await visual(lavfiSecond('smptebars')), d)!;
    expect(match).toBeLessThan(stats.enter);
    expect(testsrc).toBeGreaterThan(stats.enter);
    expect(bars).toBeGreaterThan(stats.enter);
  });

  it('the engine says nothing on a test card (the round still enters the cache) and stays in the domain on a match second', async () => {
    const { config } = model.folder;
    const engine = new StreamEngine(model.backend, model.tokenizer, config, sessionEngineOptions(config.generation, { id: 'ood' }), stats);
    await engine.restart([]);
    const second = (rgb: Uint8Array, sec: number) => engine.step({ startSec: sec, endSec: sec + 1, pixelValues: framesToPixelValues(rgb, 2, W, H, config.vision), frames: 2 });
    const inWorld = await second(matchSecond(300_001, 20), 0);
    expect(inWorld.ood?.outOfDomain).toBe(false);
    const card = await second(lavfiSecond('testsrc2'), 1);
    // One test-card second after a match second: the 3-second window's mean is what decides.
    const card2 = await second(lavfiSecond('testsrc2'), 2);
    const out = [card, card2].find((r) => r.ood?.outOfDomain);
    expect(out).toBeDefined();
    expect(out!.silent).toBe(true);
    expect(out!.text).toBe(config.chat.silence);
    expect(engine.cache.stats().rounds).toBe(3);
    engine.dispose();
  });
});

describe('out-of-domain gate and file', () => {
  const base: OodStats = { format: 'sightline-ood', version: 1, domain: 'x', hiddenSize: 2, tokensPerFrame: 1, mean: [0, 0, 0, 0], components: [[1, 0, 0, 0]], variances: [1], residualVariance: 1, windowSec: 3, enter: 10, exit: 8 };

  it('one odd second does not flip the stream; a run of them does, and it comes back below exit', () => {
    const gate = new OodGate(base);
    const states = [1, 1, 1, 25, 1, 1, 20, 20, 20, 1, 1, 1].map((s) => gate.push(s).outOfDomain);
    expect(states).toEqual([false, false, false, false, false, false, false, true, true, true, false, false]);
  });

  it('a second without frames has no score and leaves the state as it was', () => {
    expect(new OodGate(base).observe(new Float32Array(0), 2)).toBeUndefined();
  });

  it('a model folder without ood.json has no signal; a malformed one is one error naming the file and the cause', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sightline-ood-'));
    try {
      expect(loadOodStats(dir, 2)).toBeUndefined();
      writeFileSync(join(dir, 'ood.json'), JSON.stringify({ ...base, exit: 20 }));
      expect(() => loadOodStats(dir, 2)).toThrow(/ood\.json exit 20 is above enter 10/);
      writeFileSync(join(dir, 'ood.json'), JSON.stringify(base));
      expect(() => loadOodStats(dir, 256)).toThrow(/ood\.json is for hiddenSize 2, the model has 256/);
      writeFileSync(join(dir, 'ood.json'), '{');
      expect(() => loadOodStats(dir, 2)).toThrow(/ood\.json is not valid JSON/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the shipped folder copied without ood.json loads with no signal (as a model users bring)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sightline-ood-'));
    try {
      cpSync(SHIPPED_MODEL_DIR, dir, { recursive: true, filter: (src) => !src.endsWith('ood.json') });
      expect(loadModelFolder(dir).ood).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
