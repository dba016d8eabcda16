/**
 * `refresh` re-encodes a spoken line when it moves into previous text, so with a 2-layer model (where kept
 * upper-layer K/V depend on their context) it matches a full re-encode every second (`recompute`) as long
 * as every evicted round is spoken and the text window has not started trimming, and `streaming` does not.
 */
import { afterAll, expect, it } from 'vitest';
import type { CachePolicyName } from '../../src/cache/index.js';
import { StreamEngine } from '../../src/model/stream-engine.js';
import { loadTiny, pixelsFor, smallCacheEngineOptions, type Tiny } from './helpers.js';

let tiny: Tiny;
afterAll(() => tiny?.backend.dispose());

async function logitsBySecond(policy: CachePolicyName, seconds: number): Promise<Float32Array[]> {
  const options = smallCacheEngineOptions(policy, { temperature: 0 });
  const engine = new StreamEngine(tiny.backend, tiny.tokenizer, tiny.folder.config, { ...options, limits: { textSinkTokens: 64, textWindowTokens: 64, windowSec: 3 } });
  await engine.restart([]);
  // Each second's round prefill (the first decode after the vision encoder) gives the logits of its first
  // token: what the kept context makes of the new round.
  const { backend } = tiny;
  const [decode, encode] = [backend.decode.bind(backend), backend.encodeFrames.bind(backend)];
  let prefill = false;
  const firstLogits: Float32Array[] = [];
  backend.encodeFrames = async (p, f) => ((prefill = true), encode(p, f));
  backend.decode = async (e, t, s) => {
    const out = await decode(e, t, s);
    if (prefill) firstLogits.push(Float32Array.from(out));
    prefill = false;
    return out;
  };
  try {
    for (let sec = 0; sec < seconds; sec++) {
      const r = await engine.step({ startSec: sec, endSec: sec + 1, pixelValues: pixelsFor(tiny.folder, sec), frames: 2 });
      expect(r.silent).toBe(false); // the premise: every evicted round moves a line
    }
  } finally {
    Object.assign(backend, { decode, encodeFrames: encode });
    engine.dispose();
  }
  return firstLogits;
}

const maxDiff = (a: Float32Array[], b: Float32Array[]): number =>
  Math.max(...a.map((row, i) => row.reduce((m, x, j) => Math.max(m, Math.abs(x - b[i][j])), 0)));

it('refresh equals recompute while the text window is untrimmed; streaming drifts from both', async () => {
  tiny = await loadTiny('tiny-random-2l');
  const seconds = 12; // 4 tokens + end a second: 9 lines (45 tokens) move into a 128-token previous text
  const recompute = await logitsBySecond('recompute', seconds);
  const refresh = await logitsBySecond('refresh', seconds);
  const streaming = await logitsBySecond('streaming', seconds);
  expect(refresh).toHaveLength(seconds);
  expect(maxDiff(refresh, recompute)).toBeLessThan(1e-4);
  expect(maxDiff(streaming, recompute)).toBeGreaterThan(1e-3);
});
