/**
 * The synthetic world rendered straight at the model's frame size and rate, as 1-second chunks: the
 * source of `eval efficiency`, which measures engine cost over any stream length without encoding and
 * decoding hours of H.264 first. Frames are rendered on demand (one second ahead at most).
 */
import type { FrameChunk } from '../../src/stream/index.js';
import { createMatch } from '../../src/synth/index.js';
import type { ChunkStream } from './run-policy.js';

export function syntheticChunks(seed: number, o: { width: number; height: number; fps: number; seconds: number }): ChunkStream {
  let closed = false;
  return {
    async close() {
      closed = true;
    },
    async *[Symbol.asyncIterator](): AsyncGenerator<FrameChunk> {
      const broadcast = createMatch(seed, { widthPx: o.width, heightPx: o.height, fps: o.fps });
      const perSecond = Math.round(o.fps);
      for (let sec = 0; sec < o.seconds && !closed; sec++) {
        const frames = Array.from({ length: perSecond }, (_, i) => {
          const index = sec * perSecond + i;
          const rgb = new Uint8Array(broadcast.frameBytes);
          broadcast.renderFrame(index, rgb);
          return { ptsSec: index / o.fps, width: o.width, height: o.height, rgb };
        });
        yield { startSec: sec, frames, dropped: 0 };
        // Let the session's loop and the pool's messages run between renders.
        await new Promise((r) => setImmediate(r));
      }
    },
  };
}
