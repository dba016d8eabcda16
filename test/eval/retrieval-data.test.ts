import { describe, expect, it } from 'vitest';
import { clipFrameIndices, selectPairs, HELD_OUT_RENDER, type RenderedMatch } from '../../eval/retrieval-data.js';

describe('clipFrameIndices', () => {
  it('takes the frame at the centre of each of 8 equal parts of a 10 s clip at 2 fps, as training does', () => {
    // train/retrieval/train.py: floor((k + 0.5) * 20 / 8) for k = 0..7, offset by the clip's first frame.
    expect(clipFrameIndices(0, 20, 8)).toEqual([1, 3, 6, 8, 11, 13, 16, 18]);
    expect(clipFrameIndices(40, 60, 8)).toEqual([41, 43, 46, 48, 51, 53, 56, 58]);
  });

  it('stays inside the clip when parts are shorter than a frame', () => {
    expect(clipFrameIndices(10, 13, 4)).toEqual([10, 11, 11, 12]);
  });
});

describe('selectPairs', () => {
  const clip = (start: number, caption: string) => ({ video: 'v.mp4', start, end: start + 10, caption });
  const r = { ...HELD_OUT_RENDER, seconds: 30 };
  const matches: RenderedMatch[] = [
    { seed: 1, video: 'a.mp4', captions: [clip(0, 'x'), clip(10, 'y'), clip(20, 'x'), clip(30, 'past the end')] },
    { seed: 2, video: 'b.mp4', captions: [clip(0, 'y'), clip(10, 'z'), clip(20, 'w')] },
  ];

  it('keeps the first clip of each caption, in match and time order, and drops clips past the render', () => {
    const pairs = selectPairs(matches, r, 8, 10);
    expect(pairs.map((p) => [p.seed, p.start, p.caption])).toEqual([
      [1, 0, 'x'],
      [1, 10, 'y'],
      [2, 10, 'z'],
      [2, 20, 'w'],
    ]);
    expect(pairs[1].frames).toEqual(clipFrameIndices(20, 40, 8));
    expect(pairs[3].video).toBe('b.mp4');
  });

  it('stops at the number of pairs asked for', () => {
    expect(selectPairs(matches, r, 8, 3).map((p) => p.caption)).toEqual(['x', 'y', 'z']);
  });
});
