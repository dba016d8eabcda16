/**
 * Cluster fan-out: N WebSocket viewers of one stream spread over 2 gateways (`sightline gateway`, the built CLI)
 * on loopback, fed through NATS JetStream.
 *
 *   npx tsx bench/cluster-fanout.ts [--viewers 10000] [--gateways 2] [--seconds 20] [--rate 2]
 *
 * A nats-server (loopback, random port, temporary store) and the gateways start; this process stands in for a
 * worker: it adds the wanted stream, holds its lease, and publishes `rate` commentary messages per second to the
 * stream's segment log as a worker does (SegmentPublisher), each text carrying its publish time. Viewers connect
 * here, round-robin over the gateways. Delivery latency = receipt - publish time (worker -> JetStream ->
 * gateway -> viewer); also shown from the gateway's own stamp (`wallMs`, what bench/fanout.ts measures in one
 * process). CPU per gateway is its user+system time over the measuring window (/proc). Needs `npm run build`
 * and ~N+100 file descriptors (`ulimit -n`).
 */
import os from 'node:os';
import WebSocket from 'ws';
import { connectCluster } from '../src/cluster/connect.js';
import { wantStream } from '../src/cluster/directory.js';
import { SegmentPublisher } from '../src/cluster/segment-log.js';
import { startNats } from '../test/cluster/nats-server.js';
import { removeRoleScratch, startGateway, type Role } from '../test/cluster/roles.js';
import { processCpuSec } from './process-cpu.js';

const args = process.argv.slice(2);
const arg = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const VIEWERS = arg('viewers', 10_000);
const GATEWAYS = arg('gateways', 2);
const SECONDS = arg('seconds', 20);
const RATE = arg('rate', 2);
const CONNECT_BATCH = 250;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function main(): Promise<void> {
  const nats = await startNats();
  const cluster = await connectCluster(nats.url, { name: 'bench' });
  const gateways: Role[] = [];
  for (let g = 0; g < GATEWAYS; g++) gateways.push(await startGateway(nats.url, os.tmpdir()));
  const id = `fanout_${Date.now().toString(36)}`;
  const lease = setInterval(() => void cluster.leases.put(id, JSON.stringify({ worker: 'bench', since: new Date().toISOString() })).catch(() => undefined), 1000);
  await cluster.leases.put(id, JSON.stringify({ worker: 'bench', since: new Date().toISOString() }));
  await wantStream(cluster, { id, source: '/dev/null', fps: 2, createdAt: new Date().toISOString(), state: 'wanted' });
  await sleep(2500); // every gateway adopts it
  console.log(`machine: ${os.cpus().length} x ${os.cpus()[0].model}, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);

  const endToEnd: number[] = [];
  const fromGateway: number[] = [];
  let measuring = false;
  const sockets: WebSocket[] = [];
  const t0 = performance.now();
  for (let i = 0; i < VIEWERS; i += CONNECT_BATCH) {
    const batch: Promise<void>[] = [];
    for (let j = i; j < Math.min(VIEWERS, i + CONNECT_BATCH); j++) {
      const ws = new WebSocket(`${gateways[j % GATEWAYS].url.replace('http', 'ws')}/v1/streams/${id}/ws`, { perMessageDeflate: false });
      ws.on('message', (data: Buffer) => {
        if (!measuring) return;
        const now = Date.now();
        const pub = data.indexOf('"text":"pub=');
        if (pub < 0) return;
        endToEnd.push(now - Number.parseInt(data.toString('latin1', pub + 12, pub + 27), 10));
        const at = data.indexOf('"wallMs":');
        if (at >= 0) fromGateway.push(now - Number.parseInt(data.toString('latin1', at + 9, at + 24), 10));
      });
      ws.on('error', () => undefined);
      sockets.push(ws);
      batch.push(new Promise<void>((resolve) => { ws.once('open', () => resolve()); ws.once('error', () => resolve()); }));
    }
    await Promise.all(batch);
  }
  const open = sockets.filter((s) => s.readyState === WebSocket.OPEN).length;
  console.log(`connected ${open}/${VIEWERS} viewers over ${GATEWAYS} gateways in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  await sleep(1000);

  const publisher = new SegmentPublisher(cluster, (m) => console.error(m));
  const cpu0 = gateways.map((g) => processCpuSec(g.child.pid!));
  const viewersCpu0 = processCpuSec(process.pid);
  const nats0 = performance.now();
  measuring = true;
  let t = 0;
  const timer = setInterval(() => {
    const start = t++;
    publisher.publish(id, { type: 'commentary', stream: id, start, end: start + 1, text: `pub=${Date.now()} ${'x'.repeat(100)}`, tokens: 20, latencyMs: 50 });
  }, 1000 / RATE);
  await sleep(SECONDS * 1000);
  clearInterval(timer);
  await sleep(1000);
  measuring = false;
  const wallSec = (performance.now() - nats0) / 1000;
  const cpu = gateways.map((g, i) => (processCpuSec(g.child.pid!) - cpu0[i]) / wallSec);
  const viewersCpu = (processCpuSec(process.pid) - viewersCpu0) / wallSec;
  endToEnd.sort((a, b) => a - b);
  fromGateway.sort((a, b) => a - b);
  const expected = open * t;
  console.log(`published ${t} messages at ${RATE}/s; receipts ${endToEnd.length}/${expected}`);
  console.log(`delivery, worker publish -> viewer: p50 ${pct(endToEnd, 50)} ms, p99 ${pct(endToEnd, 99)} ms, max ${endToEnd.at(-1)} ms (goal p99 <= 100 ms)`);
  console.log(`delivery, gateway stamp -> viewer: p50 ${pct(fromGateway, 50)} ms, p99 ${pct(fromGateway, 99)} ms, max ${fromGateway.at(-1)} ms`);
  console.log(`CPU per gateway (cores, user+system over ${wallSec.toFixed(1)} s): ${cpu.map((c) => c.toFixed(2)).join(', ')}; the viewers' process (this one): ${viewersCpu.toFixed(2)}`);
  console.log(`machine load average after: ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  for (const s of sockets) s.terminate();
  clearInterval(lease);
  publisher.close();
  await Promise.allSettled(gateways.map((g) => g.stop()));
  removeRoleScratch();
  await cluster.close();
  await nats.stop();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
