/** Opens a source through ingest for a session: the one place src/stream reaches into src/ingest. */
import { openSource } from '../ingest/index.js';
import type { FrameSource, IngestOptions } from '../ingest/types.js';

export async function openFrameSource(source: string, options: IngestOptions): Promise<FrameSource> {
  return openSource(source, options);
}
