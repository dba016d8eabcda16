import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { captionsFile, clipFrameIndices, renderHeldOutMatch, selectPairs, HELD_OUT_RENDER, HELD_OUT_SEEDS, type RenderedMatch } from '../../eval/retrieval-data.js';
import { simulateTruth } from '../../src/synth/index.js';

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

describe('caption versions of the held-out set', () => {
  it('keeps version 1 under its old cache name and each other version beside it', () => {
    expect(captionsFile('/c/retrieval-7', 1)).toBe('/c/retrieval-7.captions.jsonl');
    expect(captionsFile('/c/retrieval-7', 2)).toBe('/c/retrieval-7.captions-v2.jsonl');
  });

  it('simulates the captions of a version the cache lacks instead of rendering the cached video again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sightline-heldout-'));
    try {
      const r = { ...HELD_OUT_RENDER, seconds: 60 };
      const base = join(dir, `retrieval-9-${r.seconds}s-${r.widthPx}x${r.heightPx}-${r.fps}fps-clip${r.clipSeconds}`);
      // A stand-in video: were it rendered again, it would no longer be this text.
      writeFileSync(`${base}.mp4`, 'cached video');
      writeFileSync(captionsFile(base, 1), '{"video":"x","start":0,"end":10,"caption":"cached v1"}\n');
      const two = await renderHeldOutMatch(dir, 9, r, undefined, 2);
      const one = await renderHeldOutMatch(dir, 9, r, undefined, 1);
      expect(readFileSync(`${base}.mp4`, 'utf8')).toBe('cached video');
      expect(two.video).toBe(`${base}.mp4`);
      expect(two.captions).toEqual(simulateTruth(9, 60, { video: basename(two.video), captionVersion: 2 }).captions);
      expect(one.captions.map((c) => c.caption)).toEqual(['cached v1']);
      expect(readdirSync(dir).sort()).toEqual([basename(captionsFile(base, 1)), basename(captionsFile(base, 2)), basename(`${base}.mp4`)].sort());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('uses the test seeds of the training configs for each caption version', () => {
    for (const [file, version] of [['retrieval.json', 1], ['retrieval-v2.json', 2]] as const) {
      const cfg = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'train', 'configs', file), 'utf8'));
      expect(cfg.render.captionVersion ?? 1).toBe(version);
      expect(cfg.seeds.test).toEqual([...HELD_OUT_SEEDS[version]]);
    }
  });
});
