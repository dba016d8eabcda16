import type { FrameChunk } from './types.js';
import type { QueuedFrame } from './frame-queue.js';

/**
 * Groups frames into 1-second chunks [startSec, startSec + 1). A chunk is handed out as soon as its
 * last grid slot arrives (index ceil((s + 1) * fps) - 1), so a live consumer doesn't wait for the next
 * second's first frame; a gap (drops, reconnect) closes it when a later second's frame shows up.
 * Seconds with no delivered frame produce no chunk; their drops count in the next chunk's `dropped`.
 */
export class Chunker {
  private carry: QueuedFrame | undefined;
  private pendingError: unknown;

  constructor(
    private readonly fps: number,
    private readonly take: () => Promise<QueuedFrame | undefined>,
  ) {}

  private lastIndexOfSecond(second: number): number {
    return Math.ceil((second + 1) * this.fps - 1e-9) - 1;
  }

  async next(): Promise<FrameChunk | undefined> {
    if (this.pendingError !== undefined) {
      const err = this.pendingError;
      this.pendingError = undefined;
      throw err;
    }
    let chunk: FrameChunk | undefined;
    for (;;) {
      let item = this.carry;
      this.carry = undefined;
      if (!item) {
        try {
          item = await this.take();
        } catch (err) {
          if (!chunk) throw err;
          this.pendingError = err; // deliver what we have, fail on the next call
          return chunk;
        }
      }
      if (!item) return chunk;
      const second = Math.floor(item.frame.ptsSec + 1e-9);
      if (!chunk) chunk = { startSec: second, frames: [], dropped: 0 };
      else if (second !== chunk.startSec) {
        this.carry = item;
        return chunk;
      }
      chunk.frames.push(item.frame);
      chunk.dropped += item.droppedBefore;
      if (item.index >= this.lastIndexOfSecond(second)) return chunk;
    }
  }
}
