/**
 * Shared by the benches that drive a StreamEngine in their own thread: a video's seconds read through ingest
 * as engine input, and a count of the decoder rows a backend encodes (hardware-independent work).
 */
import type { KvStore } from '../src/cache/index.js';
import type { InferenceBackend } from '../src/model/backend.js';
import type { ModelConfig } from '../src/model/config.js';
import { framesToPixelValues } from '../src/model/preprocess.js';
import type { SecondInput } from '../src/model/stream-engine.js';
import { openModelSource, packFrames } from '../src/stream/index.js';

/** The video's seconds at the model's frame size and rate, as a session would hand them to its engine. */
export async function* videoSeconds(video: string, vision: ModelConfig['vision']): AsyncGenerator<SecondInput> {
  const { imageWidth, imageHeight } = vision;
  const source = openModelSource(video, vision);
  try {
    for await (const chunk of source) {
      const m = packFrames(chunk);
      yield { startSec: m.startSec, endSec: m.endSec, frames: m.frames, pixelValues: framesToPixelValues(m.rgb, m.frames, imageWidth, imageHeight, vision) };
    }
  } finally {
    await source.close();
  }
}

/** Wraps `backend.decode` so `rows()` says how many rows it has encoded so far. */
export function countDecoderRows(backend: InferenceBackend): { rows(): number } {
  let rows = 0;
  const decode = backend.decode.bind(backend);
  backend.decode = (e: Float32Array, t: number, s: KvStore) => ((rows += t), decode(e, t, s));
  return { rows: () => rows };
}
