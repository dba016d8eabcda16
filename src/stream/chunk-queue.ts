import type { FrameChunk } from '../ingest/types.js';

/** A chunk and the wall-clock time it arrived (latency is measured from there). */
export interface QueuedChunk {
  chunk: FrameChunk;
  arrivedMs: number;
}

/**
 * Bounded FIFO between the source reader and the inference loop. `push` waits while full (files:
 * backpressure on ingest); `dropBacklog` is how a lagging live session skips whole seconds.
 */
export class ChunkQueue {
  private readonly items: QueuedChunk[] = [];
  private waitingTake?: () => void;
  private waitingSpace?: () => void;
  private ended = false;

  constructor(readonly maxChunks: number) {}

  get length(): number {
    return this.items.length;
  }

  async push(item: QueuedChunk): Promise<void> {
    while (this.items.length >= this.maxChunks && !this.ended) await new Promise<void>((r) => (this.waitingSpace = r));
    if (this.ended) return;
    this.items.push(item);
    this.waitingTake?.();
  }

  /** Next chunk, or undefined once ended and drained. */
  async take(): Promise<QueuedChunk | undefined> {
    while (this.items.length === 0 && !this.ended) await new Promise<void>((r) => (this.waitingTake = r));
    const item = this.items.shift();
    this.waitingSpace?.();
    return item;
  }

  /** Drop the oldest chunks until at most `keep` wait; returns the seconds dropped, oldest first. */
  dropBacklog(keep: number): QueuedChunk[] {
    const dropped = this.items.splice(0, Math.max(0, this.items.length - keep));
    if (dropped.length > 0) this.waitingSpace?.();
    return dropped;
  }

  /** Latest stream time waiting (for lag), or undefined when empty. */
  newestStartSec(): number | undefined {
    return this.items.at(-1)?.chunk.startSec;
  }

  end(): void {
    this.ended = true;
    this.waitingTake?.();
    this.waitingSpace?.();
  }
}
