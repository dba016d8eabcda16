/**
 * Indexing in a child process (src/search/index-job.ts): the report comes back over IPC and the clips are
 * searchable from the parent's store; a kill -9 of the child fails only its video and the next job indexes it
 * whole; a stop ends the child without indexing; bad input in the child comes back as one clear error.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { startIndexJob } from '../../src/search/index-job.js';
import { SearchStore, clipsTableName } from '../../src/search/store.js';
import { tempDir } from '../server/helpers.js';
import { RETRIEVAL_MODEL, ensureBuilt, synthMatch } from './helpers.js';

const MODEL = 'sightline-retrieval-v1';
let video: string;

beforeAll(() => {
  ensureBuilt();
  video = synthMatch(300103, 30).video;
}, 240_000);

describe('startIndexJob', () => {
  it('indexes in a child process whose kill -9 fails only its video; the next job indexes it whole', async () => {
    const dbPath = join(tempDir('sightline-index-job-'), 'db');
    const killed = startIndexJob([video], {
      dbPath,
      modelDir: RETRIEVAL_MODEL,
      onEvent: (e) => {
        if (e.type === 'start') process.kill(killed.pid!, 'SIGKILL');
      },
    });
    expect(killed.pid).not.toBe(process.pid);
    await expect(killed.report).rejects.toMatchObject({ code: 'worker_failed', message: expect.stringMatching(/killed \(SIGKILL\).*not indexed/) });
    await killed.exited;

    const store = await SearchStore.open(dbPath);
    try {
      const job = startIndexJob([video], { dbPath, modelDir: RETRIEVAL_MODEL });
      const report = await job.report;
      expect(report.failed).toEqual([]);
      expect(report.indexed).toEqual([expect.objectContaining({ path: video, clips: 3 })]);
      await job.exited;
      await store.afterOutsideWrite();
      expect(await store.countClips(MODEL)).toBe(3);
      expect(await store.pendingPaths(MODEL)).toEqual([]);
      const hits = await store.searchClips(MODEL, new Float32Array(256).fill(1 / 16), 5);
      expect(hits.map((h) => h.video)).toEqual([video, video, video]);
    } finally {
      store.close();
    }
  }, 120_000);

  it('stops between clips when aborted: the child exits and indexes nothing', async () => {
    const dbPath = join(tempDir('sightline-index-job-'), 'db');
    const stop = new AbortController();
    const job = startIndexJob([video], { dbPath, modelDir: RETRIEVAL_MODEL, signal: stop.signal, onEvent: (e) => e.type === 'start' && stop.abort() });
    const report = await job.report;
    await job.exited;
    expect(report.indexed).toEqual([]);
    const store = await SearchStore.open(dbPath);
    try {
      expect((await store.listVideos(MODEL)).map((v) => v.path)).not.toContain(video);
      expect(await store.table(clipsTableName(MODEL)).then((t) => t?.countRows() ?? 0)).toBe(0);
    } finally {
      store.close();
    }
  }, 120_000);

  it('reports bad input from the child as one clear error', async () => {
    const missing = join(tempDir('sightline-index-job-'), 'no-such-model');
    const job = startIndexJob([video], { dbPath: join(tempDir('sightline-index-job-'), 'db'), modelDir: missing });
    await expect(job.report).rejects.toMatchObject({ code: expect.any(String), message: expect.stringContaining(missing) });
    await job.exited;
  }, 60_000);
});
