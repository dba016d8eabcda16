import type { FrameChunk } from '../../src/ingest/types.js';
import { framesFor } from '../model/helpers.js';

/** Synthetic 1-second chunks at 2 fps, 32x32, optionally paced and optionally failing after N. */
export async function* syntheticChunks(seconds: number, o: { intervalMs?: number; failAfter?: number } = {}): AsyncGenerator<FrameChunk> {
  for (let sec = 0; sec < seconds; sec++) {
    if (o.failAfter !== undefined && sec >= o.failAfter) throw Object.assign(new Error('synthetic source broke'), { code: 'source_failed' });
    if (o.intervalMs) await new Promise((r) => setTimeout(r, o.intervalMs));
    const rgb = framesFor(sec, 2, 32, 32);
    yield {
      startSec: sec,
      dropped: 0,
      frames: [0, 1].map((f) => ({ ptsSec: sec + f / 2, width: 32, height: 32, rgb: rgb.subarray(f * 3072, (f + 1) * 3072) })),
    };
  }
}
