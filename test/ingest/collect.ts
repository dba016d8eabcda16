import type { FrameChunk, FrameSource } from '../../src/ingest/index.js';

/** Drains a source; returns its chunks, or the error it failed with. */
export async function collect(source: FrameSource): Promise<{ chunks: FrameChunk[]; error?: unknown }> {
  const chunks: FrameChunk[] = [];
  try {
    for await (const chunk of source) chunks.push(chunk);
    return { chunks };
  } catch (error) {
    return { chunks, error };
  } finally {
    await source.close();
  }
}

/** Resolves when the source emits `state`, rejects after `timeoutMs`. */
export function waitForState(source: FrameSource, state: string, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${state}' within ${timeoutMs} ms`)), timeoutMs);
    source.on('state', (s, detail) => {
      if (s !== state) return;
      clearTimeout(timer);
      resolve(detail);
    });
  });
}
