/**
 * Cuts ffmpeg's raw stdout byte stream into exact frame-size records (width * height * 3 bytes for
 * rgb24). Pipe reads arrive in arbitrary sizes; each frame gets its own buffer, filled in place, so a
 * record is never copied twice and the reader holds at most one partial frame.
 */
export class FrameReader {
  private current: Buffer;
  private filledBytes = 0;

  constructor(
    readonly frameBytes: number,
    private readonly onFrame: (rgb: Buffer) => void,
  ) {
    if (!Number.isInteger(frameBytes) || frameBytes <= 0) throw new RangeError(`frameBytes must be > 0, got ${frameBytes}`);
    this.current = Buffer.allocUnsafe(frameBytes);
  }

  push(data: Buffer): void {
    let offset = 0;
    while (offset < data.length) {
      const take = Math.min(this.frameBytes - this.filledBytes, data.length - offset);
      data.copy(this.current, this.filledBytes, offset, offset + take);
      this.filledBytes += take;
      offset += take;
      if (this.filledBytes === this.frameBytes) {
        const frame = this.current;
        this.current = Buffer.allocUnsafe(this.frameBytes);
        this.filledBytes = 0;
        this.onFrame(frame);
      }
    }
  }

  /** Bytes of an incomplete trailing frame (ffmpeg died mid-frame); they are discarded. */
  get partialBytes(): number {
    return this.filledBytes;
  }

  /** Forget a partial frame, e.g. before a reconnect starts a new byte stream. */
  reset(): void {
    this.filledBytes = 0;
  }
}
