/**
 * StreamEngine.prepareNextSecond: the engine worker encodes a `refresh` re-encode right after a second's result
 * instead of at the start of the next second. Same work in the same order: the lines are unchanged.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { StreamEngine } from '../../src/model/stream-engine.js';
import { loadTiny, pixelsFor, smallCacheEngineOptions, type Tiny } from './helpers.js';

let tiny: Tiny;
beforeAll(async () => {
  tiny = await loadTiny('tiny-random-2l');
});
afterAll(() => tiny?.backend.dispose());

async function run(prepare: boolean): Promise<{ texts: string[]; prepared: number }> {
  const engine = new StreamEngine(tiny.backend, tiny.tokenizer, tiny.folder.config, smallCacheEngineOptions('refresh'));
  await engine.restart([' Kick off.']);
  const texts: string[] = [];
  let prepared = 0;
  for (let sec = 0; sec < 16; sec++) {
    const r = await engine.step({ startSec: sec, endSec: sec + 1, pixelValues: pixelsFor(tiny.folder, sec), frames: 2 });
    texts.push(r.text);
    if (prepare) {
      if (engine.cache.missingRows().length > 0) prepared++;
      await engine.prepareNextSecond();
      expect(engine.cache.missingRows()).toEqual([]);
    }
  }
  engine.dispose();
  return { texts, prepared };
}

it('encodes a refresh re-encode between seconds, with the same lines as encoding it at the next second', async () => {
  const early = await run(true);
  const late = await run(false);
  expect(early.prepared).toBeGreaterThan(0); // refresh did leave rows to re-encode after some seconds
  expect(early.texts).toEqual(late.texts);
});
