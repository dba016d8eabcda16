/** What ingest delivers: sampled RGB frames with presentation timestamps, grouped by second. */

/** One sampled frame: packed RGB24, row-major, `width * height * 3` bytes. */
export interface Frame {
  /** Presentation time in seconds from the start of the source (0, 0.5, 1.0, ... at 2 fps). */
  ptsSec: number;
  width: number;
  height: number;
  rgb: Uint8Array;
}

/** The frames of one second of stream time, [startSec, startSec + 1). */
export interface FrameChunk {
  startSec: number;
  frames: Frame[];
  /** Frames dropped in this second by backpressure or corrupt data. */
  dropped: number;
}
