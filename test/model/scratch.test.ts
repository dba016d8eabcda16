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

it('touch writes zeros once over what it was not asked for before, within the buffer, and again after a growth', () => {
  const scratch = new ScratchArray((n) => new Float32Array(n));
  scratch.take(10, 40).fill(7);
  const whole = scratch.take(40, 40);
  whole.fill(7);
  scratch.touch(20);
  expect([...whole.subarray(0, 20)].every((x) => x === 0)).toBe(true);
  expect([...whole.subarray(20)].every((x) => x === 7)).toBe(true);
  whole.fill(5, 0, 20); // this call's values, written after its touch
  scratch.touch(20); // already written once: left alone
  scratch.touch(100); // past the end: as far as the buffer goes
  expect([...whole.subarray(0, 20)].every((x) => x === 5)).toBe(true);
  expect([...whole.subarray(20)].every((x) => x === 0)).toBe(true);
  scratch.take(41).fill(3); // a growth: a new array, nothing of it written by touch yet
  scratch.touch(4);
  expect([...scratch.take(41).subarray(0, 6)]).toEqual([0, 0, 0, 0, 3, 3]);
});
