/**
 * The cluster on a real nats-server (started here: loopback, random port, temporary store), with 2 workers and
 * 2 gateways as separate processes of the built CLI, on the tiny fixture model and a real file source:
 * placement by announced room, refusal when no worker has room, kill -9 of the worker running a stream (it
 * waits, reported, while no worker has room, then resumes on the other with no second doubled or missing),
 * kill -9 of a gateway (its viewer resumes on the other with ?since=), a nats-server restart, a gateway started
 * late (replays the whole log) and a purge seen by every gateway.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { connectCluster, type Cluster } from '../../src/cluster/connect.js';
import { leaseHolder, liveWorkers } from '../../src/cluster/directory.js';
import { media } from '../ingest/media.js';
import { postJson, tempDir, waitFor, wsClient } from '../server/helpers.js';
import { startNats, type TestNats } from './nats-server.js';
import { CLI, removeRoleScratch, startGateway, startWorker, type Role } from './roles.js';

// Played at real time, the file must outlast the whole scenario: 43 s on a quiet 2-core VM, but a loaded one
// took over 120 s to reach the worker kill and the streams ended first (a 120-s clip used to be enough).
const clip600 = () => media('testsrc-600s-10fps.mp4', ['-f', 'lavfi', '-i', 'testsrc=size=160x90:rate=10:duration=600', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p']);

let nats: TestNats;
let cluster: Cluster;
const roles: Role[] = [];
let root: string;

beforeAll(async () => {
  nats = await startNats();
  cluster = await connectCluster(nats.url, { name: 'test' });
  root = tempDir('sightline-cluster-media-');
  fs.copyFileSync(await clip600(), path.join(root, 'clip.mp4'));
});

afterAll(async () => {
  await Promise.allSettled(roles.map((r) => r.stop()));
  removeRoleScratch();
  await cluster?.close().catch(() => undefined);
  await nats?.stop();
});

/** Commentary seconds a viewer got, across reconnects. */
const starts = (messages: any[]) => messages.filter((m) => m.type === 'commentary').map((m) => m.start as number);
const lastEnd = (messages: any[]) => Math.max(0, ...messages.filter((m) => m.type === 'commentary').map((m) => m.end as number));
/** Every second from the first, once. */
const contiguous = (s: number[]) => s.every((v, i) => v === s[0] + i);

/** An SSE viewer (fetch): its messages, and the last `id:` it saw (what EventSource would send as Last-Event-ID). */
function sseViewer(url: string): { messages: any[]; lastId: () => string | undefined; close(): void } {
  const messages: any[] = [];
  let lastId: string | undefined;
  const ctl = new AbortController();
  void (async () => {
    const res = await fetch(url, { signal: ctl.signal });
    let buf = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buf += Buffer.from(chunk).toString();
      let at: number;
      while ((at = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, at);
        buf = buf.slice(at + 2);
        for (const line of block.split('\n')) {
          if (line.startsWith('id: ')) lastId = line.slice(4);
          if (line.startsWith('data: ')) messages.push(JSON.parse(line.slice(6)));
        }
      }
    }
  })().catch(() => undefined);
  return { messages, lastId: () => lastId, close: () => ctl.abort() };
}

describe('cluster roles', () => {
  it('an unreachable NATS URL is one clear error at start, for both roles', () => {
    for (const args of [['worker'], ['gateway', '--no-search']]) {
      const run = spawnSync(process.execPath, [CLI, ...args, '--nats', 'nats://127.0.0.1:1'], { encoding: 'utf8', timeout: 30_000 });
      expect(run.status).toBe(1);
      expect(run.stderr.trim().split('\n')).toEqual(['sightline: cannot reach NATS at nats://127.0.0.1:1: connection refused']);
    }
  });

  it('places by room, refuses when full, moves a killed worker\'s stream, survives a gateway kill and a NATS restart, replays to a late gateway, purges everywhere; no second doubled or missing', async () => {
    // The step reached, so a failure (a timeout included) says where it stopped.
    let step = 'starting the roles';
    onTestFailed(() => {
      console.error(`cluster scenario stopped at: ${step}`);
      for (const r of roles) console.error(r.log().slice(-4000));
    });
    const [wA, wB] = await Promise.all([startWorker(nats.url, 'wA', 1), startWorker(nats.url, 'wB', 1)]);
    const [g1, g2] = await Promise.all([startGateway(nats.url, root), startGateway(nats.url, root)]);
    roles.push(wA, wB, g1, g2);
    const workers = { wA, wB } as Record<string, Role>;
    // Both workers announce one free slot before anything is placed.
    await waitFor(async () => (await fetch(`${g1.url}/healthz`)).ok && (await liveWorkers(cluster)).length === 2, 30_000, 'two workers announced');

    step = 'placing s1 and s2';
    const create = async (gw: Role) => postJson(gw.url, '/v1/streams', { source: 'clip.mp4' });
    const r1 = await create(g1);
    expect(r1.status).toBe(201);
    const s1 = ((await r1.json()) as { id: string }).id;
    const holder1 = await waitFor(() => leaseHolder(cluster, s1), 20_000, 's1 placed');
    // The second stream goes to the worker with room.
    await waitFor(async () => {
      const res = await fetch(`${g2.url}/v1/streams/${s1}`);
      return res.ok;
    }, 10_000, 's1 listed on the other gateway');
    // The holder announces it is full, so the second stream can only go to the other worker.
    await waitFor(async () => (await liveWorkers(cluster)).find((w) => w.id === holder1)?.free === 0, 10_000, 's1 holder announcing no room');
    const r2 = await create(g2);
    expect(r2.status).toBe(201);
    const s2 = ((await r2.json()) as { id: string }).id;
    const holder2 = await waitFor(() => leaseHolder(cluster, s2), 20_000, 's2 placed');
    expect(holder2).not.toBe(holder1);
    step = 'refusing a third stream';
    // Once both announce no room, a third stream is refused: 503 with Retry-After, nothing stored.
    await waitFor(async () => (await liveWorkers(cluster)).every((w) => w.free === 0), 10_000, 'both workers announcing no room');
    const r3 = await create(g1);
    expect(r3.status).toBe(503);
    expect(r3.headers.get('retry-after')).toBeTruthy();
    expect(((await r3.json()) as any).error.code).toBe('device_full');

    step = 'first commentary of s1';
    // Viewers of s1: a WebSocket on g1, SSE on g2.
    const v1 = wsClient(`${g1.url.replace('http', 'ws')}/v1/streams/${s1}/ws`);
    const v2 = sseViewer(`${g2.url}/v1/streams/${s1}/events`);
    await waitFor(() => starts(v1.messages).length >= 3, 30_000, 's1 commentary on g1');

    step = 'killing the worker of s1';
    // kill -9 the worker running s1: the other is full, so s1 waits, and its status says so.
    await workers[holder1].kill();
    await waitFor(async () => {
      const info = (await (await fetch(`${g2.url}/v1/streams/${s1}`)).json()) as any;
      return /waiting for a worker/.test(info.stats?.reason ?? '');
    }, 20_000, 's1 reported as waiting for a worker');
    step = 'moving s1 to the freed worker';
    // Stopping s2 frees its worker: s1 moves there and resumes from its log.
    expect((await fetch(`${g1.url}/v1/streams/${s2}`, { method: 'DELETE' })).status).toBe(200);
    await waitFor(async () => (await leaseHolder(cluster, s1)) === holder2, 20_000, 's1 moved');
    const beforeMove = starts(v1.messages).length;
    await waitFor(() => starts(v1.messages).length >= beforeMove + 3, 30_000, 's1 commentary after the move');

    step = 'killing gateway g1';
    // kill -9 the gateway v1 watches: it reconnects to the other with ?since= and misses nothing.
    const got = [...v1.messages];
    await g1.kill();
    await v1.closed;
    const since = lastEnd(got);
    const v1b = wsClient(`${g2.url.replace('http', 'ws')}/v1/streams/${s1}/ws?since=${since}`);
    await waitFor(() => starts(v1b.messages).length >= 2, 30_000, 's1 commentary on g2 after the gateway kill');
    // set_prompt on a gateway is stored with the stream (its worker applies it).
    v1b.ws.send(JSON.stringify({ type: 'set_prompt', prompt: 'describe the clock' }));
    await waitFor(async () => JSON.parse(new TextDecoder().decode((await cluster.streams.get(s1))!.value)).prompt === 'describe the clock', 10_000, 'the prompt stored');

    step = 'restarting nats-server';
    // nats-server restarts: commentary goes on (the worker's queue, the gateway's consumer recover).
    await nats.restart();
    const atRestart = starts(v1b.messages).length;
    await waitFor(() => starts(v1b.messages).length >= atRestart + 4, 40_000, 's1 commentary after the NATS restart');

    step = 'checking the seconds seen';
    const seen = [...starts(got), ...starts(v1b.messages)];
    expect(seen[0]).toBe(0);
    expect(contiguous(seen)).toBe(true);
    expect(contiguous(starts(v2.messages))).toBe(true);
    expect(starts(v2.messages)[0]).toBe(0);
    // The SSE ids are seconds: Last-Event-ID resumes exactly after the last commentary seen.
    expect(Number(v2.lastId())).toBeGreaterThan(0);
    const lastId = Number(v2.lastId());
    const tail = sseViewer(`${g2.url}/v1/streams/${s1}/events?since=${lastId}`);
    // The export (read from JetStream) has every second once.
    const jsonl = await (await fetch(`${g2.url}/v1/streams/${s1}/commentary.jsonl`)).text();
    const exported = jsonl.trim().split('\n').map((l) => JSON.parse(l).start as number);
    expect(exported[0]).toBe(0);
    expect(contiguous(exported)).toBe(true);
    await waitFor(() => starts(tail.messages).length >= 1, 20_000, 'resumed SSE');
    expect(starts(tail.messages)[0]).toBe(lastId);
    v2.close();
    tail.close();
    v1b.ws.close();

    step = 'late gateway and purge';
    // A gateway started now replays the whole log; DELETE ?purge=true on another removes the stream everywhere.
    const g3 = await startGateway(nats.url, root);
    roles.push(g3);
    const late = sseViewer(`${g3.url}/v1/streams/${s1}/events`);
    await waitFor(() => starts(late.messages).length >= exported.length, 20_000, 'the late gateway replaying s1');
    expect(starts(late.messages).slice(0, exported.length)).toEqual(exported);
    late.close();
    expect((await fetch(`${g2.url}/v1/streams/${s1}?purge=true`, { method: 'DELETE' })).status).toBe(200);
    await waitFor(async () => (await fetch(`${g3.url}/v1/streams/${s1}`)).status === 404, 20_000, 's1 forgotten by the other gateway');
    expect(await cluster.streams.get(s1).then((e) => e?.operation)).not.toBe('PUT');
  }, 420_000);
});
