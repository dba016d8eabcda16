/**
 * src/ingest: any video source in, sampled RGB frames with timestamps out, grouped into 1-second chunks.
 *
 *   const source = openSource('match.mp4', { fps: 2, width: 224, height: 224 });
 *   for await (const chunk of source) { ... chunk.frames[i].rgb ... }
 *
 * See types.ts for the contract and source.ts for the stream clock, states and reconnect policy.
 */
import { IngestSource } from './source.js';
import type { FrameSource, IngestOptions } from './types.js';

export type { Frame, FrameChunk, FrameSource, IngestOptions, IngestStats, SourceHealth, SourceState } from './types.js';
export { classifySource, type ClassifiedSource, type SourceKind } from './source-kind.js';
export { INGEST_DEFAULTS } from './ingest-options.js';
export { DEFAULT_MAX_QUEUED_FRAMES } from './frame-queue.js';
export { runningFfmpegCount } from './ffmpeg-process.js';

/** Opens a source and starts ffmpeg at once; iterate for chunks, `close()` (or the signal) to stop. */
export function openSource(source: string, options: IngestOptions = {}): FrameSource {
  return new IngestSource(source, options);
}
