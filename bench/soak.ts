/**
 * Soak: the real `sightline serve` (a child process, the shipped model) with 8 live streams for an hour, their
 * sources dropping and coming back every few minutes, viewers joining, stalling and leaving, a search every few
 * seconds; prints the server's RSS slope per hour after warm-up, ffmpeg processes left, transcript seconds lost
 * and the p99 commentary latency. Goals (issue 20): slope < 5% per hour, 0 left, 0 lost.
 *
 *   npx tsx bench/soak.ts [--quick] [--minutes 60] [--streams 8] [--policy streaming] [--out bench/results/soak.json]
 *                         [--search on|off] [--videos on|off|cli] [--viewers on|off] [--drops on|off] [--server-env NAME=VALUE ...]
 *                         [--trace-mmap DIR]
 *
 * `--quick` is 10 minutes, counted from when every stream runs (set-up before: about a minute). Everything stays on loopback: each source is `sightline synth --live` sending
 * MPEG-TS over UDP to 127.0.0.1 (320x180, 10 fps: 8 of them must fit beside the server on a small machine);
 * a drop is a SIGKILL of that producer (a crashed camera), the return a new producer on the same port.
 * Before the streams, two synthetic matches are indexed (POST /v1/videos), so the searches run against
 * video clips and the live commentary both. Needs `npm run build` (it runs dist/src/cli.js).
 * The policy is `streaming` by default: at the default `refresh`, 8 streams are past what 2 cores serve in
 * real time (eval/results/commentator-v5-concurrency-refresh.txt), and the soak is about leaks, not capacity.
 *
 * To place a growth, parts can be switched off: `--search off` serves with --no-search (no index, no live
 * search index, no searches), `--videos off` indexes no videos (searches then run the text tower and the live
 * ranking but no clip query), `--videos cli` indexes them with `sightline index` in its own process before the server
 * starts (the server queries the clips but never runs the vision tower), `--viewers off` keeps only the one monitor per stream, `--drops off` keeps every
 * source up; `--server-env` sets the server's environment (e.g. MALLOC_ARENA_MAX=2). Every 10 s the server's
 * memory is sampled by part: its mappings (bench/proc-memory.ts) and each thread's V8 heap (/metrics).
 * `--trace-mmap DIR` runs the server under `strace -f --seccomp-bpf` for the calls that map memory only (the kernel
 * stops the server at those alone) and keeps in DIR the trace, the server's threads (name, CPU) every 30 s and its
 * smaps every 5 minutes: `npx tsx bench/mmap-owners.ts DIR` then says which thread made the mappings the RSS is in.
 */
import { firstDatagram, freeUdpPort } from '../test/ingest/live-producer.js';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { DEFAULT_CACHE_LIMITS } from '../src/cache/index.js';
import { memoryParts, threadsOf } from './proc-memory.js';
import { lostSeconds, partTrends, percentile, rssTrend, type RssSample, type TranscriptLine } from './soak-stats.js';
import { tempDir } from './temp-dir.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    minutes: { type: 'string' },
    streams: { type: 'string', default: '8' },
    policy: { type: 'string', default: 'streaming' },
    out: { type: 'string' },
    search: { type: 'string', default: 'on' },
    viewers: { type: 'string', default: 'on' },
    drops: { type: 'string', default: 'on' },
    videos: { type: 'string', default: 'on' },
    'server-env': { type: 'string', multiple: true, default: [] },
    'trace-mmap': { type: 'string' },
  },
});
for (const k of ['search', 'videos', 'viewers', 'drops'] as const) {
  if (!['on', 'off', ...(k === 'videos' ? ['cli'] : [])].includes(values[k]!)) {
    console.error(`soak: --${k} must be on or off${k === 'videos' ? ' or cli' : ''} (got ${values[k]})`);
    process.exit(2);
  }
}
const serverEnv = Object.fromEntries(values['server-env']!.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
const CLI = join(import.meta.dirname, '..', 'dist', 'src', 'cli.js');
if (!existsSync(CLI)) {
  console.error(`soak: ${CLI} is missing (run npm run build first)`);
  process.exit(2);
}
const minutes = Number(values.minutes ?? (values.quick ? 10 : 60));
const streamCount = Number(values.streams);
if (!(minutes > 0) || !Number.isInteger(streamCount) || streamCount < 1) {
  console.error(`soak: --minutes must be > 0 and --streams a positive integer (got ${values.minutes}, ${values.streams})`);
  process.exit(2);
}
const totalSec = minutes * 60;
/** RSS before this is warm-up: models loading, streams starting, the index built, arenas reaching their size. */
const warmupSec = Math.min(300, totalSec * 0.25);
/**
 * Memory cannot be flat before every stream's KV cache is full: its text sink and text window
 * (DEFAULT_CACHE_LIMITS: 1024 tokens) take about 7 minutes of a match's commentary to fill, and the engine's
 * buffers grow with them (bench/engine-memory.ts). The tokens each stream has spoken (commentary messages)
 * say when every cache is full; the RSS trend that counts starts then (and not before warmupSec).
 */
const FILL_TOKENS = DEFAULT_CACHE_LIMITS.textSinkTokens + DEFAULT_CACHE_LIMITS.textWindowTokens;
const spokenTokens = new Map<string, number>();
let cachesFullSec: number | undefined;
/** Each source drops about this often (staggered), for 5-20 s. */
const dropEverySec = values.quick ? 150 : 240;
/** Seconds since the soak proper began (all streams started); set-up before it counts negative. */
let t0 = Date.now();
const now = (): number => (Date.now() - t0) / 1000;
const log = (m: string): void => void process.stderr.write(`[${now().toFixed(0).padStart(4)} s] ${m}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
let seed = 1;
const rand = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);

// ---- the server ----
const work = tempDir();
const media = join(work, 'media');
mkdirSync(media);
// The node flags the `sightline` command's first line gives (#!/usr/bin/env -S node ...), as a user's server runs.
const NODE_FLAGS = readFileSync(CLI, 'utf8').split('\n', 1)[0].split(/\s+/).filter((a) => a.startsWith('--'));
// Two matches to index (warm-up), so searches also hit video clips: by the server (POST /v1/videos, below) or, with
// `--videos cli`, by `sightline index` into the server's search folder before it starts.
const matches = values.search === 'on' && values.videos !== 'off' ? [1, 2].map((i) => join(media, `match-${i}.mp4`)) : [];
matches.forEach((file, i) => spawnSync(process.execPath, [CLI, 'synth', '--seed', String(31 + i), '--seconds', '120', '--out', file], { stdio: 'ignore' }));
if (values.videos === 'cli' && matches.length > 0) {
  const r = spawnSync(process.execPath, [CLI, 'index', '--db', join(work, 'data', 'search'), ...matches], { stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`sightline index exited with ${r.status}`);
}
const serveArgs = [...NODE_FLAGS, CLI, 'serve', '--port', '0', '--data', join(work, 'data'), '--allow-private', '--file-root', media, '--policy', values.policy!];
if (values.search === 'off') serveArgs.push('--no-search');
const traceDir = values['trace-mmap'];
if (traceDir) mkdirSync(traceDir, { recursive: true });
const [command, args] = traceDir
  ? ['strace', ['-f', '--seccomp-bpf', '-qq', '-ttt', '-e', 'trace=mmap,munmap,mremap,clone,clone3', '-o', join(traceDir, 'strace.txt'), process.execPath, ...serveArgs]]
  : [process.execPath, serveArgs];
const server = spawn(command, args, {
  stdio: ['ignore', 'pipe', 'pipe'],
  env: { ...process.env, SIGHTLINE_LOG_LEVEL: 'warn', ...serverEnv },
});
let serverLog = '';
server.stderr!.on('data', (d: Buffer) => (serverLog = (serverLog + d.toString()).slice(-20_000)));
const url = await new Promise<string>((resolve, reject) => {
  let out = '';
  server.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    const m = /serving at (http:\/\/\S+)/.exec(out);
    if (m) resolve(m[1]);
  });
  server.once('exit', (code) => reject(new Error(`server exited (${code}) before listening: ${serverLog.slice(-500)}`)));
});
/** The server's own process: strace's child under --trace-mmap. */
const serverPid = traceDir ? Number(readFileSync(`/proc/${server.pid}/task/${server.pid}/children`, 'utf8').trim().split(' ')[0]) : server.pid!;
log(`server ${serverPid} (node ${NODE_FLAGS.join(' ') || 'defaults'}) at ${url}, policy ${values.policy}, ${streamCount} streams, ${minutes} min; search ${values.search}, videos ${values.videos}, viewers ${values.viewers}, drops ${values.drops}${values['server-env']!.length ? `, env ${values['server-env']!.join(' ')}` : ''}`);

/** The server's own RSS (onnxruntime and LanceDB live in its threads), and the ffmpeg children it runs now. */
function rssOf(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) * 1024;
}
function ffmpegChildren(pid: number): number[] {
  const out: number[] = [];
  for (const p of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid && stat.includes('(ffmpeg)')) out.push(Number(p));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
}

// ---- sources ----
interface Source {
  port: number;
  seed: number;
  producer?: ChildProcess;
  id?: string;
  drops: number;
}
function produce(s: Source): void {
  s.producer = spawn(process.execPath, [CLI, 'synth', '--seed', String(s.seed), '--live', `udp://127.0.0.1:${s.port}`, '--width', '320', '--height', '180', '--fps', '10'], { stdio: 'ignore' });
}
async function drop(s: Source): Promise<void> {
  const p = s.producer!;
  s.producer = undefined;
  p.kill('SIGKILL');
  await new Promise((r) => (p.exitCode !== null || p.signalCode !== null ? r(undefined) : p.once('exit', r)));
}

// ---- HTTP helpers ----
async function post(route: string, body: unknown): Promise<Response> {
  return fetch(url + route, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

for (const file of values.videos === 'on' ? matches : []) {
  const r = await post('/v1/videos', { path: file });
  log(`index ${file}: ${r.status}`);
}

const sources: Source[] = [];
// Stopped early (Ctrl-C, kill), the soak takes its producers and the server with it: left behind, they would
// keep loading the machine the next run measures on.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const s of sources) s.producer?.kill('SIGKILL');
    process.kill(serverPid, 'SIGTERM');
    process.exit(130);
  });
}
for (let i = 0; i < streamCount; i++) {
  const s: Source = { port: await freeUdpPort(), seed: 300_010 + i, drops: 0 };
  produce(s);
  sources.push(s);
}
await sleep(2000);

// ---- monitors: one viewer per stream that stays, for latency and states ----
const latencies: number[] = [];
const states: Record<string, number> = {};
const monitors: WebSocket[] = [];
function monitor(id: string): void {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/v1/streams/${id}/ws`);
  ws.on('message', (raw) => {
    const m = JSON.parse(String(raw));
    if (m.type === 'commentary' && now() >= warmupSec) latencies.push(m.latencyMs);
    if (m.type === 'commentary') {
      spokenTokens.set(id, (spokenTokens.get(id) ?? 0) + m.tokens);
      if (cachesFullSec === undefined && sources.every((s) => s.id && (spokenTokens.get(s.id) ?? 0) >= FILL_TOKENS)) {
        cachesFullSec = Math.max(0, now());
        log(`every stream has spoken ${FILL_TOKENS} tokens: caches full`);
      }
    }
    if (m.type === 'status') states[m.state] = (states[m.state] ?? 0) + 1;
  });
  ws.on('error', () => undefined);
  monitors.push(ws);
}

/** Starts a stream, waiting out 503 device_full while the device measures the streams it has. */
async function startStream(s: Source): Promise<void> {
  await firstDatagram(s.port, 120_000);
  for (;;) {
    const r = await post('/v1/streams', { source: `udp://127.0.0.1:${s.port}` });
    if (r.status === 201) {
      s.id = ((await r.json()) as { id: string }).id;
      monitor(s.id);
      return;
    }
    const wait = Number(r.headers.get('retry-after') ?? 5);
    log(`stream on port ${s.port}: ${r.status}, retry in ${wait} s`);
    await sleep(wait * 1000);
  }
}
for (const s of sources) await startStream(s);
t0 = Date.now();
log(`${sources.length} streams started; the ${minutes} minutes start now`);

// ---- churn: viewers, drops, searches; RSS sampled every 10 s ----
const viewers: { ws: WebSocket; stalled: boolean }[] = [];
let joined = 0;
let stalls = 0;
let left = 0;
function viewerTick(): void {
  const r = rand();
  if (r < 0.45 || viewers.length < 4) {
    const s = sources[Math.floor(rand() * sources.length)];
    const ws = new WebSocket(`${url.replace('http', 'ws')}/v1/streams/${s.id}/ws`);
    ws.on('error', () => undefined);
    viewers.push({ ws, stalled: false });
    joined++;
  } else if (r < 0.7 && viewers.length > 0) {
    // A stalled viewer stops reading: the server must drop it or buffer a bounded amount, not grow.
    const v = viewers[Math.floor(rand() * viewers.length)];
    if (!v.stalled && v.ws.readyState === WebSocket.OPEN) {
      (v.ws as unknown as { _socket?: { pause(): void } })._socket?.pause();
      v.stalled = true;
      stalls++;
    }
  } else if (viewers.length > 0) {
    const [v] = viewers.splice(Math.floor(rand() * viewers.length), 1);
    v.ws.terminate();
    left++;
  }
  while (viewers.length > 40) viewers.shift()!.ws.terminate();
}

const searchMs: number[] = [];
let searchErrors = 0;
const QUERIES = ['number 9 shoots', 'the keeper saves', 'corner kick', 'a goal for red', 'free kick', 'throw in for yellow', 'the ball goes out'];
async function searchTick(): Promise<void> {
  const q = QUERIES[Math.floor(rand() * QUERIES.length)];
  const s = performance.now();
  const r = await fetch(`${url}/v1/search?q=${encodeURIComponent(q)}&k=10`).catch(() => undefined);
  if (!r || !r.ok) searchErrors++;
  else {
    const body = (await r.json()) as { results: unknown[]; live: unknown[] };
    // Once, so a run's log shows what its searches hit (clips exist only when videos were indexed).
    if (searchMs.length === 0) log(`first search: ${body.results.length} clips, ${body.live.length} live lines`);
    searchMs.push(performance.now() - s);
  }
}

/**
 * The server's memory by part, in bytes: its mappings by kind (proc-memory.ts) and, from /metrics, each
 * thread's V8 heap and the main thread's external memory (sightline_thread_memory_bytes).
 */
async function sampleParts(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const proc = memoryParts(serverPid);
  if (proc) {
    out['malloc arenas'] = proc.mallocArenas;
    out['main arena ([heap])'] = proc.brkHeap;
    out['other anonymous'] = proc.otherAnon;
    out['file-backed'] = proc.files;
  }
  const text = await (await fetch(`${url}/metrics`).catch(() => undefined))?.text().catch(() => '');
  const lance = /^sightline_search_cache_bytes (\S+)$/m.exec(text ?? '')?.[1];
  if (lance !== undefined) out['lancedb caches'] = Number(lance);
  for (const m of (text ?? '').matchAll(/^sightline_thread_memory_bytes\{thread="([^"]+)",kind="([^"]+)"\} (\S+)$/gm)) out[`${m[1]} ${m[2]}`] = Number(m[3]);
  return out;
}
const parts: { tSec: number; bytes: Record<string, number> }[] = [];

/** Under --trace-mmap, at the n-th 10-s sample: the threads every 30 s, the mappings every 5 minutes. */
function traceSample(tSec: number, n: number): void {
  const wallSec = Date.now() / 1000;
  if (n % 3 === 0) appendFileSync(join(traceDir!, 'threads.jsonl'), JSON.stringify({ tSec, wallSec, threads: threadsOf(serverPid) }) + '\n');
  if (n % 30 !== 1) return;
  const file = `smaps-${Math.round(tSec)}.txt`;
  try {
    writeFileSync(join(traceDir!, file), readFileSync(`/proc/${serverPid}/smaps`));
    appendFileSync(join(traceDir!, 'snapshots.jsonl'), JSON.stringify({ tSec, wallSec, file }) + '\n');
  } catch {
    // the server is gone: the run reports it
  }
}

/** The machine's 1-minute load average at each sample: on a shared machine, what the lag figures depend on. */
const loads: number[] = [];
const rss: RssSample[] = [];
const seenFfmpeg = new Set<number>();
const nextDrop = sources.map((_, i) => dropEverySec * (0.5 + i / sources.length));
const outages: Promise<void>[] = [];
let lastSample = -10;
let lastSearch = 0;
while (now() < totalSec) {
  const t = now();
  if (t - lastSample >= 10) {
    lastSample = t;
    rss.push({ tSec: t, rssBytes: rssOf(serverPid) });
    if (traceDir) traceSample(t, rss.length);
    loads.push(loadavg()[0]);
    void sampleParts().then((bytes) => parts.push({ tSec: t, bytes }));
    for (const p of ffmpegChildren(serverPid)) seenFfmpeg.add(p);
    if (rss.length % 6 === 0) log(`rss ${(rss.at(-1)!.rssBytes / 2 ** 20).toFixed(0)} MB, viewers ${viewers.length}, searches ${searchMs.length}, latencies ${latencies.length}`);
  }
  if (values.search === 'on' && t - lastSearch >= 3) {
    lastSearch = t;
    void searchTick();
  }
  if (values.viewers === 'on') viewerTick();
  sources.forEach((s, i) => {
    if (values.drops === 'off' || t < nextDrop[i] || !s.producer || t > totalSec - 60) return;
    const outSec = 5 + Math.floor(rand() * 16);
    nextDrop[i] = t + dropEverySec * (0.75 + rand() / 2);
    s.drops++;
    outages.push(drop(s).then(() => sleep(outSec * 1000)).then(() => produce(s)));
  });
  await sleep(2000);
}
await Promise.all(outages);

// ---- wind down: streams stopped, then the server ----
for (const v of viewers) v.ws.terminate();
for (const m of monitors) m.terminate();
const lost: Record<string, ReturnType<typeof lostSeconds>> = {};
for (const s of sources) {
  const text = await (await fetch(`${url}/v1/streams/${s.id}/commentary.jsonl`)).text();
  lost[s.id!] = lostSeconds(text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as TranscriptLine));
}
const infos = (await (await fetch(`${url}/v1/streams`)).json()) as { streams: { id: string; state: string; stats?: { skippedSeconds: number } }[] };
for (const s of sources) await fetch(`${url}/v1/streams/${s.id}`, { method: 'DELETE' });
await sleep(5000);
const leftWhileServing = ffmpegChildren(serverPid);
for (const p of leftWhileServing) seenFfmpeg.add(p);
process.kill(serverPid, 'SIGTERM');
await new Promise((r) => server.once('exit', r));
await sleep(1000);
const leftAfterExit = [...seenFfmpeg].filter(alive);
for (const s of sources) if (s.producer) await drop(s);

/** The trend that counts: after warm-up and after every cache is full (the end, if they never filled). */
const steadySec = Math.max(warmupSec, cachesFullSec ?? totalSec);
const trend = rssTrend(rss, steadySec);
const fillTrend = rssTrend(rss, warmupSec);
const byPart = partTrends(parts, steadySec);
const lostTotal = Object.values(lost).reduce((a, l) => a + l.lost, 0);
const result = {
  command: `npx tsx bench/soak.ts ${process.argv.slice(2).join(' ')}`.trim(),
  minutes,
  streams: streamCount,
  policy: values.policy,
  warmupSec,
  cachesFullSec: cachesFullSec ?? null,
  steadySec,
  rssSinceWarmup: fillTrend,
  rss: { ...trend, startMB: rss[0].rssBytes / 2 ** 20, endMB: rss.at(-1)!.rssBytes / 2 ** 20, maxMB: Math.max(...rss.map((r) => r.rssBytes)) / 2 ** 20 },
  ffmpegLeft: { whileServing: leftWhileServing.length, afterExit: leftAfterExit.length, seen: seenFfmpeg.size },
  transcript: { lostSeconds: lostTotal, perStream: lost, skippedSeconds: infos.streams.reduce((a, s) => a + (s.stats?.skippedSeconds ?? 0), 0) },
  latencyMs: { samples: latencies.length, p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: Math.max(...latencies) },
  search: { done: searchMs.length, errors: searchErrors, p50Ms: percentile(searchMs, 50), p99Ms: percentile(searchMs, 99) },
  viewers: { joined, stalled: stalls, left },
  drops: sources.reduce((a, s) => a + s.drops, 0),
  loadAverage: { mean: loads.reduce((a, x) => a + x, 0) / loads.length, max: Math.max(...loads) },
  streamStatesAtEnd: infos.streams.reduce<Record<string, number>>((a, s) => ({ ...a, [s.state]: (a[s.state] ?? 0) + 1 }), {}),
  statusStates: states,
  rssSamples: rss.map((r) => [Math.round(r.tSec), Math.round(r.rssBytes / 2 ** 20)]),
  memoryByPart: byPart,
  partSamples: parts.map((p) => ({ tSec: Math.round(p.tSec), mb: Object.fromEntries(Object.entries(p.bytes).map(([k, v]) => [k, Math.round(v / 2 ** 18) / 4])) })),
};
const f = (x: number, d = 1): string => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
console.log(`soak: ${streamCount} streams, ${minutes} min, policy ${values.policy}; ${result.drops} source drops, ${joined} viewers joined, ${stalls} stalled, ${left} left, ${searchMs.length} searches (${searchErrors} failed)`);
console.log(`caches full at ${cachesFullSec === undefined ? 'never (not by the end)' : `${cachesFullSec.toFixed(0)} s`}; RSS from ${warmupSec} s (warm-up) on: slope ${f(fillTrend.slopeMBPerHour)} MB/h = ${f(fillTrend.slopePctPerHour, 2)}% per hour`);
console.log(`RSS from ${steadySec.toFixed(0)} s (steady: warm-up over, caches full; ${trend.samples} samples) on: mean ${f(trend.meanMB, 0)} MB, slope ${f(trend.slopeMBPerHour)} MB/h = ${f(trend.slopePctPerHour, 2)}% per hour (goal < 5%); start ${f(result.rss.startMB, 0)} MB, max ${f(result.rss.maxMB, 0)} MB, end ${f(result.rss.endMB, 0)} MB`);
console.log(`ffmpeg processes left: ${leftWhileServing.length} after the streams were deleted, ${leftAfterExit.length} after the server exited (of ${seenFfmpeg.size} seen; goal 0)`);
console.log(`transcript seconds lost: ${lostTotal} (goal 0); seconds skipped for lag: ${result.transcript.skippedSeconds}; machine load average (1 min) mean ${f(result.loadAverage.mean)}, max ${f(result.loadAverage.max)} on ${availableParallelism()} cores`);
console.log(`commentary latency after warm-up: p50 ${f(result.latencyMs.p50, 0)} ms, p99 ${f(result.latencyMs.p99, 0)} ms (${latencies.length} seconds); search p50 ${f(result.search.p50Ms, 0)} ms, p99 ${f(result.search.p99Ms, 0)} ms`);
console.log(`memory by part from ${steadySec.toFixed(0)} s on (MB at first -> last sample, slope MB/h):`);
for (const p of byPart) console.log(`  ${p.part.padEnd(28)} ${f(p.fromMB).padStart(7)} -> ${f(p.toMB).padStart(7)}  ${f(p.slopeMBPerHour).padStart(8)} MB/h`);
console.log(`streams at the end: ${JSON.stringify(result.streamStatesAtEnd)}; status messages by state: ${JSON.stringify(states)}`);
if (values.out) {
  mkdirSync(dirname(values.out), { recursive: true });
  writeFileSync(values.out, JSON.stringify(result, null, 1) + '\n');
}
process.exit(0);
