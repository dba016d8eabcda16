/**
 * Fan-out benchmark: N WebSocket viewers of one stream on loopback.
 *
 *   npx tsx bench/fanout.ts [--viewers 10000] [--seconds 10] [--rate 2] [--stalled 100]
 *
 * Phase 1: N viewers; the stream publishes `rate` commentary messages per second; each viewer
 * measures delivery latency = receipt time - the message's `wallMs` (stamped at publish).
 * Prints p50/p99/max and the server's memory. Phase 2: `stalled` more viewers that never read;
 * the stream publishes 16 KiB messages at 50/s (800 KiB/s per viewer; the kernel's socket buffers absorb the first few MiB); server memory is sampled each second and must
 * level off (each stalled viewer is dropped once its 1 MiB queue bound is reached).
 * The server runs in a child process (its own fds, heap and event loop); viewers run here.
 * Needs ~N+100 file descriptors in each process: check `ulimit -n`.
 */
import { fork, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

const args = process.argv.slice(2);
const arg = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const VIEWERS = arg('viewers', 10_000);
const SECONDS = arg('seconds', 10);
const RATE = arg('rate', 2);
const STALLED = arg('stalled', 100);
const CONNECT_BATCH = 250;

const mib = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MiB`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function ask<T>(child: ChildProcess, msg: object): Promise<T> {
  return new Promise((resolve) => {
    child.once('message', (m) => resolve(m as T));
    child.send(msg);
  });
}

interface ServerStats {
  rssBytes: number;
  heapBytes: number;
  externalBytes: number;
  viewers: number;
  dropped: number;
  publishP50Ms: number;
  publishMaxMs: number;
  published: number;
  broadcastP50Ms: number;
  broadcastMaxMs: number;
}

async function main(): Promise<void> {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const child = fork(path.join(here, 'fanout-server.ts'), [], { execArgv: ['--import', 'tsx', '--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const { url, id } = await new Promise<{ url: string; id: string }>((r) => child.once('message', (m) => r(m as { url: string; id: string })));
  const wsUrl = `${url.replace('http', 'ws')}/v1/streams/${id}/ws`;
  const base = await ask<ServerStats>(child, { cmd: 'stats' });
  console.log(`machine load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} on ${os.cpus().length} CPUs`);
  console.log(`server idle: rss ${mib(base.rssBytes)}, heap ${mib(base.heapBytes)}`);

  // ---- phase 1: N live viewers ----
  const latenciesMs: number[] = [];
  let measuring = false;
  const sockets: WebSocket[] = [];
  const t0 = performance.now();
  for (let i = 0; i < VIEWERS; i += CONNECT_BATCH) {
    const batch = [];
    for (let j = i; j < Math.min(VIEWERS, i + CONNECT_BATCH); j++) {
      const ws = new WebSocket(wsUrl, { perMessageDeflate: false });
      ws.on('message', (data: Buffer) => {
        if (!measuring) return;
        const now = Date.now();
        // Avoid a full JSON.parse per viewer: read "wallMs":<n> directly.
        const at = data.indexOf('"wallMs":');
        if (at >= 0) latenciesMs.push(now - Number.parseInt(data.toString('latin1', at + 9, at + 24), 10));
      });
      ws.on('error', () => undefined);
      sockets.push(ws);
      batch.push(new Promise<void>((resolve) => { ws.once('open', () => resolve()); ws.once('error', () => resolve()); }));
    }
    await Promise.all(batch);
  }
  const open = sockets.filter((s) => s.readyState === WebSocket.OPEN).length;
  console.log(`connected ${open}/${VIEWERS} viewers in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const connected = await ask<ServerStats>(child, { cmd: 'stats' }); // also resets publish timings
  console.log(`server with ${connected.viewers} viewers: rss ${mib(connected.rssBytes)} (+${mib(connected.rssBytes - base.rssBytes)}), heap ${mib(connected.heapBytes)}`);

  measuring = true;
  child.send({ cmd: 'play', rate: RATE, textBytes: 120 });
  await sleep(SECONDS * 1000);
  child.send({ cmd: 'pause' });
  await sleep(500);
  measuring = false;
  latenciesMs.sort((a, b) => a - b);
  const pct = (p: number) => latenciesMs[Math.min(latenciesMs.length - 1, Math.floor((p / 100) * latenciesMs.length))];
  const during = await ask<ServerStats>(child, { cmd: 'stats' });
  const expected = open * (during.published - connected.published);
  console.log(`delivery latency over ${latenciesMs.length}/${expected} receipts: p50 ${pct(50)} ms, p99 ${pct(99)} ms, max ${latenciesMs.at(-1)} ms`);
  console.log(`producer time per publish to ${open} viewers (server side): p50 ${during.publishP50Ms.toFixed(1)} ms, max ${during.publishMaxMs.toFixed(1)} ms`);
  console.log(`publish to last viewer handed the bytes (server side): p50 ${during.broadcastP50Ms.toFixed(1)} ms, max ${during.broadcastMaxMs.toFixed(1)} ms`);
  console.log(`server after phase 1: rss ${mib(during.rssBytes)}, heap ${mib(during.heapBytes)}, viewers ${during.viewers}, dropped ${during.dropped}`);
  for (const s of sockets) s.terminate();
  await sleep(1000);

  // ---- phase 2: stalled viewers ----
  const stalled: WebSocket[] = [];
  await Promise.all(
    Array.from({ length: STALLED }, () => new Promise<void>((resolve) => {
      const ws = new WebSocket(wsUrl, { perMessageDeflate: false });
      ws.once('open', () => {
        (ws as unknown as { _socket: import('node:net').Socket })._socket.pause(); // never read again
        resolve();
      });
      ws.on('error', () => undefined);
      stalled.push(ws);
    })),
  );
  const before = await ask<ServerStats>(child, { cmd: 'stats' });
  console.log(`stalled phase: ${before.viewers} stalled viewers, server rss ${mib(before.rssBytes)}, heap ${mib(before.heapBytes)}`);
  child.send({ cmd: 'play', rate: 50, textBytes: 16 * 1024 });
  const samples: ServerStats[] = [];
  console.log(`machine load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} on ${os.cpus().length} CPUs`);
  for (let s = 0; s < 15; s++) {
    await sleep(1000);
    const st = await ask<ServerStats>(child, { cmd: 'stats' });
    samples.push(st);
    console.log(`  t=${s + 1}s published ~${(((s + 1) * 50 * 16) / 1024).toFixed(1)} MiB per viewer: rss ${mib(st.rssBytes)}, heap ${mib(st.heapBytes)}, external ${mib(st.externalBytes)}, viewers ${st.viewers}, dropped ${st.dropped}`);
  }
  child.send({ cmd: 'pause' });
  const peak = Math.max(...samples.map((s) => s.rssBytes));
  console.log(`stalled result: peak rss ${mib(peak)} (idle ${mib(base.rssBytes)}), final rss ${mib(samples.at(-1)!.rssBytes)}, slow viewers dropped ${samples.at(-1)!.dropped}/${STALLED}`);
  for (const s of stalled) s.terminate();
  await ask(child, { cmd: 'exit' }).catch(() => undefined);
  child.kill();
}

await main();
