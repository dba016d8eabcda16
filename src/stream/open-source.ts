/**
 * Adapter to ingest's `openSource(source, options)` (src/ingest/index.ts, landing from the ingest
 * branch). Imported dynamically through a variable so this branch type-checks before it exists;
 * the contract it codes against is src/ingest/types.ts.
 */
import { SightlineError } from '../errors.js';
import type { FrameSource, IngestOptions } from '../ingest/types.js';

type OpenSource = (source: string, options?: IngestOptions) => FrameSource | Promise<FrameSource>;

const INGEST_MODULE = '../ingest/index.js';

export async function openFrameSource(source: string, options: IngestOptions): Promise<FrameSource> {
  let mod: { openSource?: OpenSource };
  try {
    mod = (await import(INGEST_MODULE)) as { openSource?: OpenSource };
  } catch (err) {
    throw new SightlineError('internal', `ingest is not available in this build (src/ingest/index.ts): ${(err as Error).message}`, { cause: err });
  }
  if (typeof mod.openSource !== 'function') throw new SightlineError('internal', 'src/ingest/index.ts exports no openSource()');
  return mod.openSource(source, options);
}
