import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { watch } from '../../src/cli/watch.js';
import { FIXTURES } from '../model/helpers.js';
import { syntheticChunks } from '../stream/helpers.js';

describe('sightline watch', () => {
  it('--json prints one segment line per second with exact timestamps', async () => {
    const lines: string[] = [];
    const opts = { fps: 2, policy: 'streaming' as const, json: true, model: join(FIXTURES, 'tiny-random-2l') };
    await watch('synthetic', opts, (l) => lines.push(l), syntheticChunks(5));
    const segs = lines.map((l) => JSON.parse(l));
    expect(segs.map((s) => [s.type, s.start, s.end])).toEqual([0, 1, 2, 3, 4].map((i) => ['segment', i, i + 1]));
    for (const s of segs) expect(typeof s.text).toBe('string');
  });

  it('names a missing model folder', async () => {
    await expect(watch('x', { fps: 2, policy: 'streaming', model: '/nonexistent/model' }, () => undefined, syntheticChunks(1))).rejects.toThrow(
      'model folder /nonexistent/model: not found (pass --model DIR)',
    );
  });
});
