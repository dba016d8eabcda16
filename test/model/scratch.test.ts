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

it('allocates what the caller reserves when it grows, then serves every length up to it from that array', () => {
  let made = 0;
  const scratch = new ScratchArray((n) => (made++, new Float32Array(n)));
  const a = scratch.take(10, 40);
  expect(scratch.capacity).toBe(40);
  expect(scratch.take(40, 40).buffer).toBe(a.buffer);
  expect(made).toBe(2); // the empty start, 40
  scratch.take(41, 40); // asked past what was reserved: grows as without a reserve
  expect(scratch.capacity).toBe(52);
});
