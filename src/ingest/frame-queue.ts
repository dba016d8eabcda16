import type { Frame } from './types.js';

/** A sampled frame on its way to the consumer. */
export interface QueuedFrame {
  frame: Frame;
  /** Position on the sampling grid since the start of the stream: ptsSec = index / fps. */
  index: number;
  /** Frames lost (backpressure or corrupt input) between the previous delivered frame and this one. */
  droppedBefore: number;
}

/** Default bound of the frame queue: 8 seconds at 2 fps (~1.2 MB of 224x224 RGB). */
export const DEFAULT_MAX_QUEUED_FRAMES = 16;

/**
 * Bounded single-consumer frame queue. When a push finds it full, the oldest frame is dropped (keep the
 * newest: live commentary wants the present, not a backlog) and its loss is carried on the new oldest
 * frame as `droppedBefore`, so drop counts reach the consumer without any per-drop bookkeeping.
 *
 *   push ->  [ newest ... oldest ]  -> take
 *            |<--- capacity --->|      overflow: oldest out, droppedBefore += 1 + its own
 *
 * Memory is capacity frames, whatever the consumer's lag.
 */
export class FrameQueue {
  private readonly items: QueuedFrame[] = [];
  private waiter: { resolve: (item: QueuedFrame | undefined) => void; reject: (err: unknown) => void } | undefined;
  private ended = false;
  private failure: unknown;
  droppedTotal = 0;

  constructor(readonly capacity: number = DEFAULT_MAX_QUEUED_FRAMES) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`queue capacity must be >= 1, got ${capacity}`);
  }

  get length(): number {
    return this.items.length;
  }

  /** The frame the consumer gets next, if any. */
  peek(): QueuedFrame | undefined {
    return this.items[0];
  }

  /** Adds a frame; returns how many frames were dropped to make room (0 or 1). */
  push(item: QueuedFrame): number {
    if (this.ended) return 0;
    if (this.waiter) {
      const { resolve } = this.waiter;
      this.waiter = undefined;
      resolve(item);
      return 0;
    }
    this.items.push(item);
    if (this.items.length <= this.capacity) return 0;
    const dropped = this.items.shift()!;
    this.items[0].droppedBefore += dropped.droppedBefore + 1;
    this.droppedTotal += 1;
    return 1;
  }

  /** Next frame, waiting if none; `undefined` once ended and drained; rejects if ended with an error. */
  take(): Promise<QueuedFrame | undefined> {
    const item = this.items.shift();
    if (item) return Promise.resolve(item);
    if (this.ended) return this.failure === undefined ? Promise.resolve(undefined) : Promise.reject(this.failure);
    if (this.waiter) return Promise.reject(new Error('FrameQueue has a single consumer'));
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  /** No more frames; queued ones are still delivered, then the error (if any) is raised. */
  end(error?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.failure = error;
    const waiter = this.waiter;
    this.waiter = undefined;
    if (!waiter) return;
    if (error === undefined) waiter.resolve(undefined);
    else waiter.reject(error);
  }

  /** Drop everything queued (close()): frees memory at once. */
  clear(): void {
    this.items.length = 0;
  }
}
