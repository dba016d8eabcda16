/**
 * The child's side of index-job.ts: opens the store and an encoder, indexes the files, keeps the clip table's
 * ANN index in line (as `sightline index` does), posts its events and report, closes everything and exits. A
 * `stop` message (or the parent going away) stops it between clips, and the video is rolled back.
 */
import { isSightlineError } from '../errors.js';
import { EncoderClient } from '../model/index.js';
import { indexVideos } from './indexer.js';
import type { IndexJobMessage, IndexJobSpec } from './index-job.js';
import { SearchStore } from './store.js';

if (!process.send) throw new Error('index-job.process.ts runs as a child of index-job.ts (no IPC channel)');
const post = (m: IndexJobMessage): Promise<void> => new Promise((resolve) => (process.connected ? process.send!(m, () => resolve()) : resolve()));
const stop = new AbortController();
process.on('disconnect', () => stop.abort());
process.on('message', (m: { type: string; spec?: IndexJobSpec }) => {
  if (m.type === 'stop') stop.abort();
  else if (m.type === 'job' && m.spec) void run(m.spec).finally(() => process.exit(0));
});

async function run(spec: IndexJobSpec): Promise<void> {
  let store: SearchStore | undefined;
  let encoder: EncoderClient | undefined;
  try {
    store = await SearchStore.open(spec.dbPath);
    encoder = await EncoderClient.create(spec.modelDir, { variant: spec.variant });
    const report = await indexVideos(spec.paths, { store, encoder, signal: stop.signal, onEvent: (event) => void post({ type: 'event', event }) });
    await post({ type: 'report', report });
    if (report.indexed.length > 0 && !stop.signal.aborted) {
      await store.maintainAnnIndex(encoder.spec.name).catch((err: unknown) => post({ type: 'upkeep-error', message: (err as Error).message }));
    }
  } catch (err) {
    await post({ type: 'error', code: isSightlineError(err) ? err.code : 'internal', message: (err as Error).message });
  } finally {
    await encoder?.close();
    store?.close();
  }
}
