import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { frames } from '../../src/synth/index.js';

function hashes(seed: number, opts: { widthPx: number; heightPx: number; fps: number; seconds: number }): string[] {
  const out: string[] = [];
  for (const f of frames(seed, opts)) out.push(createHash('sha256').update(f.rgb).digest('hex'));
  return out;
}

describe('synthetic match frames', () => {
  const small = { widthPx: 160, heightPx: 90, fps: 25, seconds: 4 };

  it('gives identical frame hashes for the same seed and different ones for another seed', () => {
    const a = hashes(21, small);
    expect(a).toHaveLength(100);
    expect(hashes(21, small)).toEqual(a);
    const b = hashes(22, small);
    expect(b.filter((h, i) => h !== a[i]).length).toBeGreaterThan(90);
    // The picture moves.
    expect(new Set(a).size).toBeGreaterThan(50);
  });

  it('renders any size and frame rate with the pitch, both kits and the overlay in view', () => {
    let count = 0;
    for (const f of frames(4, { widthPx: 97, heightPx: 55, fps: 30, seconds: 1 })) {
      expect(f.rgb.length).toBe(97 * 55 * 3);
      expect(f.tSec).toBeCloseTo(f.index / 30);
      count++;
    }
    expect(count).toBe(30);
    const [first] = frames(4, { widthPx: 320, heightPx: 180, seconds: 1 });
    const px = first.rgb;
    let green = 0;
    for (let i = 0; i < px.length; i += 3) if (px[i + 1] > px[i] + 40 && px[i + 1] > px[i + 2] + 40) green++;
    expect(green / (px.length / 3)).toBeGreaterThan(0.5);
  });
});
