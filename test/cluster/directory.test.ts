/**
 * The cluster directory's listings on a real nats-server: values that are current, never deleted, purged or
 * expired ones, and an answer (not a wait) while entries of the TTL bucket expire under the reader.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectCluster, type Cluster } from '../../src/cluster/connect.js';
import { listWanted, liveWorkers, purgeStream, wantStream } from '../../src/cluster/directory.js';
import { encode } from '../../src/cluster/wire.js';
import { startNats, type TestNats } from './nats-server.js';

const LEASE_MS = 1000;
let nats: TestNats;
let cluster: Cluster;

beforeAll(async () => {
  nats = await startNats();
  cluster = await connectCluster(nats.url, { name: 'directory-test', leaseMs: LEASE_MS });
});

afterAll(async () => {
  await cluster?.close().catch(() => undefined);
  await nats?.stop();
});

const announce = (id: string, free: number) => cluster.workers.put(id, encode({ id, free, running: [], at: new Date().toISOString() }));

describe('cluster directory', () => {
  it('lists current workers only: a deleted one and an expired one are gone', async () => {
    await announce('w1', 1);
    await announce('w2', 0);
    await announce('w3', 2);
    await cluster.workers.put('bad', new TextEncoder().encode('not json'));
    await cluster.workers.delete('w2');
    expect((await liveWorkers(cluster)).map((w) => [w.id, w.free]).sort()).toEqual([['w1', 1], ['w3', 2]]);
    // Only w3 keeps renewing; w1 expires (the bucket's TTL is the lease time).
    const renew = setInterval(() => void announce('w3', 2), LEASE_MS / 4);
    try {
      await new Promise((r) => setTimeout(r, LEASE_MS * 2.5));
      expect((await liveWorkers(cluster)).map((w) => w.id)).toEqual(['w3']);
    } finally {
      clearInterval(renew);
    }
  });

  it('answers every time while entries expire and renew under it', async () => {
    // Many short-lived announcements: some expire between the listing's count and its reads.
    const churn = setInterval(() => void announce(`c${Math.floor(Math.random() * 20)}`, 1), 5);
    try {
      for (let i = 0; i < 40; i++) {
        const listed = await Promise.race([liveWorkers(cluster), new Promise<'hung'>((r) => setTimeout(() => r('hung'), 5000))]);
        expect(listed).not.toBe('hung');
      }
    } finally {
      clearInterval(churn);
    }
  });

  it('lists wanted streams by id and forgets a purged one', async () => {
    const spec = (id: string) => ({ id, source: 'clip.mp4', fps: 2, createdAt: new Date().toISOString(), state: 'wanted' as const });
    await wantStream(cluster, spec('s1'));
    await wantStream(cluster, spec('s2'));
    expect([...(await listWanted(cluster)).keys()].sort()).toEqual(['s1', 's2']);
    await purgeStream(cluster, 's1');
    expect([...(await listWanted(cluster)).keys()]).toEqual(['s2']);
    expect((await listWanted(cluster)).get('s2')?.source).toBe('clip.mp4');
  });
});
