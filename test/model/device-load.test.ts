/** Admission and placement by measured load, on a fake clock: no workers, no timing. */
import { describe, expect, it } from 'vitest';
import { DeviceLoad, deviceFullError } from '../../src/model/device-load.js';

function device(workers: number, o: { initialStreamCost?: number; maxStreamsPerWorker?: number } = {}) {
  let nowMs = 0;
  const load = new DeviceLoad({ workers, windowMs: 10_000, headroom: 0.8, initialStreamCost: 0.4, now: () => nowMs, ...o });
  /** Runs every stream for `seconds` wall seconds, each step costing costMs(id) of engine time. */
  const run = (seconds: number, costMs: (id: string) => number, ids: string[]) => {
    for (let t = 0; t < seconds; t++) {
      nowMs += 1000;
      for (const id of ids) load.record(id, costMs(id));
    }
  };
  return { load, run, advance: (ms: number) => (nowMs += ms) };
}

describe('DeviceLoad', () => {
  it('admits two streams per worker by default before anything is measured, spreading over workers', () => {
    const load = new DeviceLoad({ workers: 2, now: () => 0 });
    // The defaults: 0.25 each, headroom 0.6.
    expect(load.snapshot()).toMatchObject({ expectedCost: 0.25, measured: false, headroom: 0.6, windowMs: 10_000 });
    expect(['a', 'b', 'c', 'd'].map((id) => load.admit(id))).toEqual([0, 1, 0, 1]);
    expect(load.admit('e')).toBeUndefined();
    expect(load.streamsPerWorker()).toEqual([2, 2]);
  });

  it('follows measured cost: cheap streams make room, expensive ones take it', () => {
    const { load, run } = device(1);
    const ids = ['a', 'b'];
    ids.forEach((id) => load.admit(id));
    expect(load.admit('x')).toBeUndefined(); // 2 x 0.4 planned
    run(10, () => 100, ids); // each measured at 0.1 of the worker over a full window
    const snap = load.snapshot();
    expect(snap.measured).toBe(true);
    expect(snap.expectedCost).toBeCloseTo(0.1, 2);
    expect(snap.workers[0].busy).toBeCloseTo(0.2, 2);
    // 0.2 measured + 0.1 expected per new stream: six more fit under 0.8 (a new one counts 0.1 until measured).
    const admitted = ['c', 'd', 'e', 'f', 'g', 'h', 'i'].map((id) => load.admit(id));
    expect(admitted).toEqual([0, 0, 0, 0, 0, 0, undefined]);
  });

  it('refuses when the worker is measured busy, and admits again when load falls', () => {
    const { load, run } = device(1);
    ['a', 'b'].forEach((id) => load.admit(id));
    run(10, () => 350, ['a', 'b']); // 0.7 busy
    expect(load.admit('c')).toBeUndefined();
    const err = deviceFullError('cpu', load.snapshot());
    expect(err).toMatchObject({ code: 'device_full', httpStatus: 503, retryAfterSec: 10 });
    expect(err.message).toMatch(/^device cpu is full: its 1 engine worker .*0\.70 busy/);
    expect(err.message).toMatch(/expected to cost 0\.35 \(the mean of its streams\).*above 0\.80/);
    // One stream gets cheaper (e.g. goes silent): the window forgets its old cost.
    run(10, (id) => (id === 'a' ? 350 : 50), ['a', 'b']);
    expect(load.snapshot().workers[0].busy).toBeCloseTo(0.4, 2);
    expect(load.admit('c')).toBe(0);
    // Closing a stream frees its cost at once.
    load.remove('c');
    load.remove('a');
    expect(load.snapshot().workers[0]).toMatchObject({ streams: 1 });
    expect(load.admit('d')).toBe(0);
  });

  it('counts a young stream at no less than the expected cost, and at its own cost once that is higher', () => {
    const { load, run } = device(1, { initialStreamCost: 0.2 });
    load.admit('a');
    run(2, () => 700, ["a"]); // 0.7 over its first 2 s, above the estimate
    expect(load.snapshot().workers[0].load).toBeCloseTo(0.7, 2);
    expect(load.admit('b')).toBeUndefined();
  });

  it('places on the least-loaded worker by measure, not by count', () => {
    const { load, run } = device(2, { initialStreamCost: 0.1 });
    ['a', 'b', 'c'].forEach((id) => load.admit(id)); // 0, 1, 0
    run(10, (id) => (id === 'b' ? 700 : 50), ['a', 'b', 'c']);
    // Worker 0: two streams at 0.05; worker 1: one at 0.7. The next goes to worker 0.
    expect(load.place('d')).toBe(0);
    expect(load.workerOf('d')).toBe(0);
  });

  it('caps streams per worker whatever the measure, and place() never refuses', () => {
    const { load } = device(1, { initialStreamCost: 0.01, maxStreamsPerWorker: 3 });
    expect(['a', 'b', 'c', 'd'].map((id) => load.admit(id))).toEqual([0, 0, 0, undefined]);
    expect(load.place('e')).toBe(0);
  });

  it('forgets the streams of a dead worker', () => {
    const { load } = device(2);
    ['a', 'b', 'c'].forEach((id) => load.admit(id));
    load.removeWorker(0);
    expect(load.streamsPerWorker()).toEqual([0, 1]);
    expect(load.workerOf('a')).toBeUndefined();
  });
});
