/**
 * DeviceLoad: what one engine pool's workers are measured to carry, and whether one more stream fits.
 * Data and rules only (no workers, no clock of its own): the pool reports placements and each step's engine
 * time; admission answers "does not fit" as a value and the pool turns it into the error.
 *
 *   cost of a stream  = engine ms of its steps ended in the last `windowMs` / `windowMs` (its age, if younger)
 *                       (a fraction of one worker: 0.25 = a quarter of a core, or of the GPU's worker)
 *   load of a worker  = sum of the costs of the streams pinned to it (a stream's cost lands on its worker)
 *   expected cost     = mean cost of the device's measured streams, `initialStreamCost` before any
 *   admit             = the worker with the least load such that load + expected cost <= `headroom`
 *                       (and fewer than `maxStreamsPerWorker` streams); none: the device is full
 *
 * A stream is measured once it has run a full window; until then it counts at the larger of the expected
 * cost and its cost so far, so streams admitted together are counted before they have a history. A closed
 * stream's cost leaves its worker at once. Invariant: every placed stream is on exactly one worker in
 * [0, workers). Memory: one fixed ring of per-second buckets per stream.
 */
import { SightlineError } from '../errors.js';

export interface DeviceLoadOptions {
  workers: number;
  /** Sliding window engine time is summed over (default 10 s). */
  windowMs?: number;
  /**
   * Busy fraction a worker may be planned up to (default 0.6: on the 2-core VM, p99 passed 1 s once the
   * busiest worker was measured near 0.7; docs/engine.md, "Admission").
   */
  headroom?: number;
  /** Expected cost of a stream before the device has measured one (default 0.25: two streams per worker). */
  initialStreamCost?: number;
  /** Streams per worker whatever the measure (default 64, the pool's queue bound). */
  maxStreamsPerWorker?: number;
  /** Wall clock in ms (default performance.now; tests pass a fake). */
  now?: () => number;
}

export const DEFAULT_LOAD_WINDOW_MS = 10_000;
export const DEFAULT_HEADROOM = 0.6;
export const DEFAULT_INITIAL_STREAM_COST = 0.25;

const BUCKET_MS = 1000;

interface StreamLoad {
  worker: number;
  openedMs: number;
  /** Engine ms per bucket; `epochs[i]` says which bucket (floor(ms / BUCKET_MS)) slot i holds. */
  sums: Float64Array;
  epochs: Float64Array;
}

/** One worker's numbers: streams pinned, measured busy fraction, planned load (measured + expected). */
export interface WorkerLoadInfo {
  streams: number;
  busy: number;
  load: number;
}

export interface LoadSnapshot {
  workers: WorkerLoadInfo[];
  /** What one more stream is expected to cost (a fraction of one worker). */
  expectedCost: number;
  /** Whether expectedCost was measured on this device (else it is the initial estimate). */
  measured: boolean;
  headroom: number;
  windowMs: number;
}

export class DeviceLoad {
  readonly windowMs: number;
  readonly headroom: number;
  private readonly initialCost: number;
  private readonly maxPerWorker: number;
  private readonly now: () => number;
  private readonly buckets: number;
  private readonly streams = new Map<string, StreamLoad>();

  constructor(private readonly o: DeviceLoadOptions) {
    this.windowMs = o.windowMs ?? DEFAULT_LOAD_WINDOW_MS;
    this.headroom = o.headroom ?? DEFAULT_HEADROOM;
    this.initialCost = o.initialStreamCost ?? DEFAULT_INITIAL_STREAM_COST;
    this.maxPerWorker = o.maxStreamsPerWorker ?? 64;
    this.now = o.now ?? (() => performance.now());
    this.buckets = Math.max(1, Math.ceil(this.windowMs / BUCKET_MS));
  }

  get workers(): number {
    return this.o.workers;
  }

  /** The worker a stream is pinned to, if placed. */
  workerOf(streamId: string): number | undefined {
    return this.streams.get(streamId)?.worker;
  }

  /**
   * Places a new stream where it fits: the worker with the least planned load whose load plus the expected
   * cost stays within the headroom. `undefined` when none does (the device is full); nothing changes then.
   */
  admit(streamId: string): number | undefined {
    const expected = this.expectedCost().cost;
    const fits = (w: number) => this.streamsOn(w) < this.maxPerWorker && this.workerLoad(w) + expected <= this.headroom + 1e-9;
    const w = this.leastLoaded(fits);
    if (w !== undefined) this.pin(streamId, w);
    return w;
  }

  /** Places a stream without refusing (benches, resumed streams): the worker with the least planned load. */
  place(streamId: string): number {
    const w = this.leastLoaded(() => true) ?? 0;
    this.pin(streamId, w);
    return w;
  }

  /** A step of `streamId` finished now after `engineMs` of engine time. Unknown streams are ignored. */
  record(streamId: string, engineMs: number): void {
    const s = this.streams.get(streamId);
    if (!s || !(engineMs > 0)) return;
    const epoch = Math.floor(this.now() / BUCKET_MS);
    const i = epoch % this.buckets;
    if (s.epochs[i] !== epoch) {
      s.epochs[i] = epoch;
      s.sums[i] = 0;
    }
    s.sums[i] += engineMs;
  }

  remove(streamId: string): void {
    this.streams.delete(streamId);
  }

  /** Forgets the streams of worker `w` (it died; they are reopened elsewhere). */
  removeWorker(w: number): void {
    for (const [id, s] of this.streams) if (s.worker === w) this.streams.delete(id);
  }

  /** Streams pinned to each worker, in worker order. */
  streamsPerWorker(): number[] {
    const counts = new Array<number>(this.o.workers).fill(0);
    for (const s of this.streams.values()) counts[s.worker]++;
    return counts;
  }

  snapshot(): LoadSnapshot {
    const { cost, measured } = this.expectedCost();
    const counts = this.streamsPerWorker();
    const workers = counts.map((streams, w) => {
      let busy = 0;
      for (const s of this.streams.values()) if (s.worker === w) busy += this.measuredCost(s).cost;
      return { streams, busy, load: this.workerLoad(w, cost) };
    });
    return { workers, expectedCost: cost, measured, headroom: this.headroom, windowMs: this.windowMs };
  }

  private pin(streamId: string, worker: number): void {
    this.streams.set(streamId, { worker, openedMs: this.now(), sums: new Float64Array(this.buckets), epochs: new Float64Array(this.buckets).fill(-1) });
  }

  private streamsOn(w: number): number {
    let n = 0;
    for (const s of this.streams.values()) if (s.worker === w) n++;
    return n;
  }

  /** Least planned load among workers passing `ok`; ties go to fewer streams, then the lower index. */
  private leastLoaded(ok: (w: number) => boolean): number | undefined {
    const expected = this.expectedCost().cost;
    const counts = this.streamsPerWorker();
    let best: number | undefined;
    let bestLoad = Infinity;
    for (let w = 0; w < this.o.workers; w++) {
      if (!ok(w)) continue;
      const load = this.workerLoad(w, expected);
      if (load < bestLoad - 1e-9 || (Math.abs(load - bestLoad) <= 1e-9 && counts[w] < counts[best!])) {
        best = w;
        bestLoad = load;
      }
    }
    return best;
  }

  private workerLoad(w: number, expected = this.expectedCost().cost): number {
    let load = 0;
    for (const s of this.streams.values()) {
      if (s.worker !== w) continue;
      const m = this.measuredCost(s);
      load += m.full ? m.cost : Math.max(m.cost, expected);
    }
    return load;
  }

  /** Mean cost of the streams that ran a full window, or the initial estimate. */
  private expectedCost(): { cost: number; measured: boolean } {
    let sum = 0;
    let n = 0;
    for (const s of this.streams.values()) {
      const m = this.measuredCost(s);
      if (m.full) {
        sum += m.cost;
        n++;
      }
    }
    return n > 0 ? { cost: sum / n, measured: true } : { cost: this.initialCost, measured: false };
  }

  /** Engine ms in the window over the wall ms it spans (the stream's age, if younger). */
  private measuredCost(s: StreamLoad): { cost: number; full: boolean } {
    const nowMs = this.now();
    const epoch = Math.floor(nowMs / BUCKET_MS);
    let engineMs = 0;
    for (let i = 0; i < this.buckets; i++) if (s.epochs[i] > epoch - this.buckets) engineMs += s.sums[i];
    // A step is recorded when it ends, so the current bucket holds work done partly in the one before: the
    // buckets kept (the current one and buckets - 1 before it) are taken to span a whole window.
    const ageMs = nowMs - s.openedMs;
    const full = ageMs >= this.windowMs;
    return { cost: engineMs / Math.max(BUCKET_MS, Math.min(this.buckets * BUCKET_MS, ageMs)), full };
  }
}

/**
 * The one error a full device gives (503 with Retry-After in the server): names the device, each worker's
 * measured busy fraction and planned load, the expected cost of one more stream and the headroom.
 */
export function deviceFullError(device: string, s: LoadSnapshot): SightlineError {
  const f = (x: number) => x.toFixed(2);
  const workers = s.workers.map((w) => `${f(w.busy)} busy / ${f(w.load)} planned with ${w.streams} stream${w.streams === 1 ? '' : 's'}`).join('; ');
  const expected = s.measured ? `${f(s.expectedCost)} (the mean of its streams)` : `${f(s.expectedCost)} (initial estimate, nothing measured yet)`;
  const message =
    `device ${device} is full: its ${s.workers.length} engine worker${s.workers.length === 1 ? '' : 's'} ` +
    `(engine time per wall second over the last ${Math.round(s.windowMs / 1000)} s): ${workers}; ` +
    `one more stream is expected to cost ${expected}, and no worker may be planned above ${f(s.headroom)}. ` +
    `Retry later or stop a stream.`;
  return new SightlineError('device_full', message, { retryAfterSec: s.windowMs / 1000 });
}
