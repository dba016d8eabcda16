/** Bench child process: the real server with one LoadRunner stream, driven over IPC by bench/fanout.ts. */
import { createServer } from '../src/server/app.js';
import { createLogger } from '../src/server/logger.js';
import { LoadRunner } from './fanout-load-runner.js';
import { tempDir } from './temp-dir.js';

let runner: LoadRunner | undefined;
const broadcastMs: number[] = [];
const server = await createServer({
  factory: (spec) => (runner = new LoadRunner(spec)),
  dataDir: tempDir(),
  port: 0,
  logger: createLogger('error'),
  fanout: { onBroadcastDone: (ms, viewers) => viewers > 0 && broadcastMs.push(ms) },
  policy: { allowLoopback: true },
  rateLimit: { burst: 100 },
});
const res = await fetch(`${server.url}/v1/streams`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ source: 'rtsp://127.0.0.1/bench' }) });
const { id } = (await res.json()) as { id: string };

process.on('message', async (msg: { cmd: string; rate?: number; textBytes?: number }) => {
  if (msg.cmd === 'play') runner!.play(msg.rate!, msg.textBytes!);
  if (msg.cmd === 'pause') runner!.pause();
  if (msg.cmd === 'stats') {
    global.gc?.();
    const mem = process.memoryUsage();
    const stream = server.manager.get(id);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    const dropped = Number(/sightline_slow_viewers_dropped_total (\d+)/.exec(metrics)?.[1] ?? 0);
    const publishMs = runner!.publishMs.splice(0).sort((a, b) => a - b);
    const publishP50Ms = publishMs[Math.floor(publishMs.length / 2)] ?? 0;
    const publishMaxMs = publishMs.at(-1) ?? 0;
    const done = broadcastMs.splice(0).sort((a, b) => a - b);
    const broadcastP50Ms = done[Math.floor(done.length / 2)] ?? 0;
    const broadcastMaxMs = done.at(-1) ?? 0;
    process.send!({ broadcastP50Ms, broadcastMaxMs, published: runner!.stats().time, publishP50Ms, publishMaxMs, rssBytes: mem.rss, heapBytes: mem.heapUsed, externalBytes: mem.external + mem.arrayBuffers, viewers: stream.hub.viewerCount, dropped });
  }
  if (msg.cmd === 'exit') {
    await server.close();
    process.exit(0);
  }
});
process.send!({ url: server.url, id });
