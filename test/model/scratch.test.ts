/** ScratchArray: the engine worker's reused per-second buffers (src/model/scratch.ts). */
import { expect, it } from 'vitest';
import { framesToPixelValues } from '../../src/model/preprocess.js';
import { ScratchArray } from '../../src/model/scratch.js';

it('hands out views of one array while it is large enough, and grows by a quarter more than asked', () => {
  let made = 0;
  const scratch = new ScratchArray((n) => (made++, new Float32Array(n)));
  const a = scratch.take(100);
  expect(a.length).toBe(100);
  expect(scratch.capacity).toBe(125);
  const b = scratch.take(120);
  expect(b.buffer).toBe(a.buffer);
  expect(scratch.take(126).length).toBe(126);
  expect(scratch.capacity).toBe(158);
  expect(made).toBe(3); // the empty start, 125, 158
});

it('framesToPixelValues writes into a given buffer the values it would return fresh', () => {
  const norm = { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] };
  const rgb = Uint8Array.from({ length: 2 * 4 * 3 * 3 }, (_, i) => (i * 37) % 256);
  const into = new Float32Array(100).fill(Number.NaN);
  const out = framesToPixelValues(rgb, 2, 4, 3, norm, into);
  expect(out.buffer).toBe(into.buffer);
  expect([...out]).toEqual([...framesToPixelValues(rgb, 2, 4, 3, norm)]);
  expect(() => framesToPixelValues(rgb, 2, 4, 3, norm, new Float32Array(10))).toThrow(RangeError);
});
