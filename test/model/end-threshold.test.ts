import { describe, expect, it } from 'vitest';
import { StreamEngine } from '../../src/model/stream-engine.js';
import { loadTiny, pixelsFor, smallCacheEngineOptions } from './helpers.js';

describe('generation.endThreshold in the engine', () => {
  it('a started line ends as soon as the end of turn reaches the threshold', async () => {
    const tiny = await loadTiny('tiny-random-2l');
    const lineLengths = async (endThreshold?: number): Promise<number[]> => {
      const options = smallCacheEngineOptions('streaming', { temperature: 0, endThreshold });
      const engine = new StreamEngine(tiny.backend, tiny.tokenizer, tiny.folder.config, { ...options, maxTokensPerSecond: 6 });
      await engine.restart([]);
      const lengths: number[] = [];
      for (let sec = 0; sec < 12; sec++) {
        const r = await engine.step({ startSec: sec, endSec: sec + 1, pixelValues: pixelsFor(tiny.folder, sec), frames: 2 });
        if (!r.silent) lengths.push(r.tokenIds.length);
      }
      engine.dispose();
      return lengths;
    };
    // The random model's end of turn is never its likeliest token: plain greedy lines run to the cap ...
    const plain = await lineLengths();
    expect(plain.length).toBeGreaterThan(0);
    expect(plain.every((n) => n === 6)).toBe(true);
    // ... but it always has some probability, so a threshold near 0 ends every line after its first token
    // (the first token itself is not gated: an empty line would be silence).
    const gated = await lineLengths(1e-9);
    expect(gated.length).toBeGreaterThan(0);
    expect(gated.every((n) => n === 1)).toBe(true);
  });
});
