/**
 * Cluster failover: kill -9 of the worker running a stream, to that stream's next commentary message.
 *
 *   npx tsx bench/cluster-failover.ts [--trials 10] [--lease-ms 3000]
 *
 * Starts a nats-server (loopback, random port, temporary store) and 2 workers (`sightline worker`, the built CLI,
 * tiny fixture model, 1 engine thread, at most 1 stream each). Each trial: a wanted stream of a 120 s test clip
 * (real ingest, paced to real time), 3 seconds of commentary, kill -9 of the worker holding its lease, then the
 * time until the next commentary of the stream reaches a reader of its segment log; then the killed worker is
 * started again. Prints p50 and max over the trials (goal <= 10 s) and the seconds lost or doubled (goal 0):
 * every stream must have each second once, from 0, across the move. Needs `npm run build` first.
 */
import { connectCluster } from '../src/cluster/connect.js';
import { leaseHolder, stopStream, wantStream } from '../src/cluster/directory.js';
import { followLog } from '../src/cluster/segment-log.js';
import { media } from '../test/ingest/media.js';
import { startNats } from '../test/cluster/nats-server.js';
import { removeRoleScratch, startWorker, type Role } from '../test/cluster/roles.js';

const args = process.argv.slice(2);
const arg = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const TRIALS = arg('trials', 10);
const LEASE_MS = arg('lease-ms', 3000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until<T>(check: () => T | undefined | false | Promise<T | undefined | false>, ms: number, what: string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

async function main(): Promise<void> {
  const clip = await media('testsrc-120s.mp4', ['-f', 'lavfi', '-i', 'testsrc=size=160x90:rate=30:duration=120', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p']);
  const nats = await startNats();
  const cluster = await connectCluster(nats.url, { name: 'bench', leaseMs: LEASE_MS });
  const workers = new Map<string, Role>();
  for (const id of ['wA', 'wB']) workers.set(id, await startWorker(nats.url, id, 1, LEASE_MS));
  const failoverMs: number[] = [];
  let lost = 0;
  let doubled = 0;
  try {
    for (let trial = 0; trial < TRIALS; trial++) {
      const id = `fo_${trial}_${Date.now().toString(36)}`;
      const got: { start: number; atMs: number }[] = [];
      const follow = await followLog(cluster, id, (l) => {
        if (l.event.type === 'commentary') got.push({ start: l.event.start, atMs: Date.now() });
      });
      await wantStream(cluster, { id, source: clip, fps: 2, createdAt: new Date().toISOString(), state: 'wanted' });
      await until(() => got.length >= 3, 60_000, 'first commentary');
      const holder = await until(() => leaseHolder(cluster, id), 10_000, 'lease');
      const killMs = Date.now();
      await workers.get(holder)!.kill();
      const next = await until(() => got.find((g) => g.atMs > killMs), 60_000, 'commentary after the kill');
      failoverMs.push(next.atMs - killMs);
      const atMove = got.length;
      await until(() => got.length >= atMove + 2, 30_000, 'commentary after the move');
      await stopStream(cluster, id);
      await follow.stop();
      const starts = got.map((g) => g.start);
      const seen = new Set(starts);
      doubled += starts.length - seen.size;
      const last = Math.max(...starts);
      for (let s = 0; s <= last; s++) if (!seen.has(s)) lost++;
      console.log(`trial ${trial + 1}: ${holder} killed at second ${starts[atMove - 1]}, next message after ${(failoverMs.at(-1)! / 1000).toFixed(2)} s; seconds 0-${last}, ${starts.length} messages`);
      workers.set(holder, await startWorker(nats.url, holder, 1, LEASE_MS));
      await sleep(LEASE_MS); // the stopped stream's lease and the old announcement are gone
    }
  } finally {
    await Promise.allSettled([...workers.values()].map((w) => w.stop()));
    removeRoleScratch();
    await cluster.close();
    await nats.stop();
  }
  const sorted = [...failoverMs].sort((a, b) => a - b);
  const p50 = sorted[Math.floor((sorted.length - 1) / 2)];
  console.log(`\nfailover (kill -9 -> next message), ${sorted.length} trials, lease ${LEASE_MS} ms: p50 ${(p50 / 1000).toFixed(2)} s, max ${(sorted.at(-1)! / 1000).toFixed(2)} s (goal <= 10 s)`);
  console.log(`seconds lost: ${lost}, doubled: ${doubled} (goal 0)`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
