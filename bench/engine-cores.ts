/**
 * Does CPU inference scale with cores? Stream-seconds per second and CPU use (process.cpuUsage, in cores)
 * for N engine workers in ONE process against N separate processes of one worker each, N = 1, 2, 4, 8, 16.
 *
 *   npx tsx bench/engine-cores.ts [--model DIR] [--workers 1,2,4,8,16] [--seconds 8] [--streams-per-worker 2]
 *                                 [--modes threads,processes] [--policy streaming] [--sample] [--json FILE]
 *
 * Modes (each level of each mode runs in fresh processes this script forks, so the measuring process does no work):
 * - `threads`: one process, one EnginePool with N workers (`isolation: 'thread'`, worker threads);
 * - `pool-processes`: one process, one EnginePool with N workers (`isolation: 'process'`, child processes);
 * - `processes`: N processes, each an EnginePool of one worker (the upper bound: nothing shared);
 * - `ort-threads`: N worker threads of one process, each running the bare decoder session (1 intra-op thread)
 *   on 1 new row over 1,000 cached rows in a loop: onnxruntime alone, no pool (rate in calls/s, not stream-s/s).
 * Every stream runs closed loop (its next second as soon as the last one returns; the same noise frames,
 * previous text and sampling seed for every stream, so each does the same work; `streaming` policy unless --policy), so throughput is what the machine sustains, not a real-time load. Per level: one
 * JSON line (mode, workers, streamSecondsPerSec, cores = CPU seconds / wall seconds of all its processes,
 * main-thread cores, speed-up and cores against the same mode's 1-worker level of this run). `--sample`
 * samples every thread's state and system call for 2 s mid-level (/proc/PID/task/TID/syscall): where the
 * threads of a level that does not scale wait (futex = a lock or a condition, epoll_wait = an idle loop).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, workerData, type Worker } from 'node:worker_threads';
import { EnginePool } from '../src/model/pool.js';
import { startThread } from '../src/model/worker-start.js';
import { processCpuSec } from './process-cpu.js';
import { sessionEngineOptions } from '../src/stream/index.js';
import { cachePolicyName } from '../src/cli/options.js';

const DEFAULT_MODEL = join(import.meta.dirname, '..', 'models', 'sightline-commentator-v5-int8');
type Mode = 'threads' | 'pool-processes' | 'processes' | 'ort-threads';
interface ChildJob {
  mode: Mode;
  model: string;
  workers: number;
  streams: number;
  seconds: number;
  policy: string;
}
interface ChildReport {
  done: number;
  /** Commentary tokens generated (pool modes). */
  tokens: number;
  wallSec: number;
  cpuSec: number;
  mainThreadCpuSec: number;
  childCpuSec: number;
  threads: number;
}

// ---------------------------------------------------------------- per-thread CPU from /proc
function threadCpuSec(pid: number | 'self' = 'self'): Map<string, number> {
  const out = new Map<string, number>();
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      const s = readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8');
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      out.set(t, (Number(f[11]) + Number(f[12])) / 100);
    } catch {
      // the thread ended
    }
  }
  return out;
}


function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

// ---------------------------------------------------------------- the worker of ort-threads
async function ortThread(job: { model: string; seconds: number }): Promise<void> {
  const ort = await import('onnxruntime-node');
  const { loadModelFolder } = await import('../src/model/model-folder.js');
  const { FOLD_STORED_WEIGHTS } = await import('../src/model/onnx-session.js');
  const folder = loadModelFolder(job.model);
  const { hiddenSize: d, numLayers, numKvHeads, headDim } = folder.config.decoder;
  const session = await ort.InferenceSession.create(folder.decoderPath, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all', ...FOLD_STORED_WEIGHTS });
  const past = 1000;
  const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {
    inputs_embeds: new ort.Tensor('float32', new Float32Array(d).fill(0.01), [1, 1, d]),
    position_ids: new ort.Tensor('int64', BigInt64Array.from([BigInt(past)]), [1, 1]),
  };
  for (let l = 0; l < numLayers; l++) {
    feeds[`past_key_${l}`] = new ort.Tensor('float32', new Float32Array(past * numKvHeads * headDim).fill(0.01), [1, past, numKvHeads, headDim]);
    feeds[`past_value_${l}`] = new ort.Tensor('float32', new Float32Array(past * numKvHeads * headDim).fill(0.01), [1, past, numKvHeads, headDim]);
  }
  for (let i = 0; i < 3; i++) await session.run(feeds);
  parentPort!.postMessage('ready');
  await new Promise<void>((r) => parentPort!.once('message', () => r()));
  const until = performance.now() + job.seconds * 1000;
  let done = 0;
  while (performance.now() < until) {
    await session.run(feeds);
    done++;
  }
  parentPort!.postMessage(done);
}

// ---------------------------------------------------------------- one measured process (forked)
async function child(job: ChildJob): Promise<void> {
  const send = (m: unknown): void => void process.send!(m);
  const go = new Promise<void>((r) => process.once('message', () => r()));
  let run: () => Promise<number>;
  let generated = 0;
  let stop: () => Promise<void>;
  if (job.mode === 'ort-threads') {
    const workers = Array.from({ length: job.workers }, (): Worker => startThread(new URL(import.meta.url), { model: job.model, seconds: job.seconds }));
    await Promise.all(workers.map((w) => new Promise((r, j) => (w.once('message', r), w.once('error', j)))));
    run = async () => {
      const counts = workers.map((w) => new Promise<number>((r) => w.once('message', r)));
      workers.forEach((w) => w.postMessage('go'));
      return (await Promise.all(counts)).reduce((a, b) => a + b, 0);
    };
    stop = async () => void (await Promise.all(workers.map((w) => w.terminate())));
  } else {
    const isolation = job.mode === 'pool-processes' ? 'process' : 'thread';
    const pool = await EnginePool.create({ modelDir: job.model, workers: job.workers, ...({ isolation } as object) });
    const v = pool.config.vision;
    const rgb = new Uint8Array(2 * v.imageWidth * v.imageHeight * 3).map((_, i) => (i * 2654435761) >>> 24);
    const previousTexts = Array.from({ length: 120 }, (_, i) => ` Silva passes to Okafor, ${i} minutes played.`);
    const ids = Array.from({ length: job.streams }, (_, i) => `s${i}`);
    await Promise.all(ids.map((id) => pool.open(id, sessionEngineOptions(pool.config.generation, { id, policy: cachePolicyName(job.policy), sampling: { seed: 1 } }), previousTexts)));
    let sec = 0;
    const step = (id: string) => pool.step(id, { startSec: sec, endSec: sec + 1, rgb, frames: 2, width: v.imageWidth, height: v.imageHeight });
    for (let i = 0; i < 2; i++, sec++) await Promise.all(ids.map(step)); // warm-up seconds
    run = async () => {
      let done = 0;
      let tokens = 0;
      const until = performance.now() + job.seconds * 1000;
      await Promise.all(
        ids.map(async (id) => {
          for (let s = sec; performance.now() < until; s++) {
            const r = await pool.step(id, { startSec: s, endSec: s + 1, rgb, frames: 2, width: v.imageWidth, height: v.imageHeight });
            tokens += r.tokenIds.length;
            done++;
          }
        }),
      );
      generated = tokens;
      return done;
    };
    stop = () => pool.destroy();
  }
  send({ type: 'ready', pid: process.pid });
  await go;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const th0 = threadCpuSec();
  const kids0 = childPids(process.pid).map(processCpuSec).reduce((a, b) => a + b, 0);
  const done = await run();
  const wallSec = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  const th1 = threadCpuSec();
  const kids1 = childPids(process.pid).map(processCpuSec).reduce((a, b) => a + b, 0);
  const main = (th1.get(String(process.pid)) ?? 0) - (th0.get(String(process.pid)) ?? 0);
  const report: ChildReport = { done, tokens: generated, wallSec, cpuSec: (c.user + c.system) / 1e6, mainThreadCpuSec: main, childCpuSec: kids1 - kids0, threads: th1.size };
  send({ type: 'report', report });
  await stop();
  process.exit(0);
}

// ---------------------------------------------------------------- thread-state sampler
const SYSCALLS: Record<string, string> = { 0: 'read', 1: 'write', 7: 'poll', 9: 'mmap', 11: 'munmap', 12: 'brk', 24: 'sched_yield', 28: 'madvise', 202: 'futex', 232: 'epoll_wait', 281: 'epoll_pwait' };

/** Each busy-or-waiting thread of `pids`: the share of samples in each state (R = running) or syscall. */
async function sampleThreads(pids: number[], ms: number): Promise<Record<string, Record<string, number>>> {
  const h: Record<string, Record<string, number>> = {};
  const until = performance.now() + ms;
  while (performance.now() < until) {
    for (const pid of pids) {
      let tids: string[] = [];
      try {
        tids = readdirSync(`/proc/${pid}/task`);
      } catch {
        continue;
      }
      for (const t of tids) {
        try {
          const st = readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8');
          const state = st[st.lastIndexOf(')') + 2];
          let key = state;
          if (state !== 'R') {
            const sc = readFileSync(`/proc/${pid}/task/${t}/syscall`, 'utf8').split(' ')[0].trim();
            key = `${state}:${SYSCALLS[sc] ?? sc}`;
          }
          const k = `${pid === Number(t) ? 'main' : 'thread'} ${pid}/${t}`;
          (h[k] ??= {})[key] = (h[k][key] ?? 0) + 1;
        } catch {
          // gone, or not readable
        }
      }
    }
    await new Promise((r) => setTimeout(r, 4));
  }
  const out: Record<string, Record<string, number>> = {};
  for (const [k, m] of Object.entries(h)) {
    const n = Object.values(m).reduce((a, b) => a + b, 0);
    // Idle helper threads (always in the same wait) are left out.
    if ((m.R ?? 0) / n < 0.03 && Object.keys(m).length === 1) continue;
    out[k] = Object.fromEntries(Object.entries(m).sort((a, b) => b[1] - a[1]).map(([s, v]) => [s, Math.round((100 * v) / n)]));
  }
  return out;
}

// ---------------------------------------------------------------- the orchestrator
async function level(mode: Mode, n: number, o: { model: string; seconds: number; spw: number; policy: string; sample: boolean }): Promise<Record<string, unknown>> {
  const procs = mode === 'processes' ? n : 1;
  const perProc = mode === 'processes' ? 1 : n;
  const job: ChildJob = { mode, model: o.model, workers: perProc, streams: perProc * o.spw, seconds: o.seconds, policy: o.policy };
  const kids: ChildProcess[] = Array.from({ length: procs }, () => fork(new URL(import.meta.url), ['--child', JSON.stringify(job)], { execArgv: process.execArgv, serialization: 'advanced' }));
  const ready = kids.map((k) => new Promise<number>((r, j) => (k.on('message', (m: { type: string; pid: number }) => m.type === 'ready' && r(m.pid)), k.once('exit', (c) => j(new Error(`child exited ${c}`))))));
  const pids = await Promise.all(ready);
  const reports = kids.map((k) => new Promise<ChildReport>((r) => k.on('message', (m: { type: string; report: ChildReport }) => m.type === 'report' && r(m.report))));
  kids.forEach((k) => k.send('go'));
  let sampled: Record<string, Record<string, number>> | undefined;
  if (o.sample) {
    await new Promise((r) => setTimeout(r, (o.seconds * 1000) / 3));
    const all = pids.flatMap((p) => [p, ...childPids(p)]);
    sampled = await sampleThreads(all, Math.min(2000, (o.seconds * 1000) / 2));
  }
  const rs = await Promise.all(reports);
  await Promise.all(kids.map((k) => (k.exitCode === null ? new Promise((r) => k.once('exit', r)) : undefined)));
  const wall = Math.max(...rs.map((r) => r.wallSec));
  const cpu = rs.reduce((a, r) => a + r.cpuSec + r.childCpuSec, 0);
  const done = rs.reduce((a, r) => a + r.done, 0);
  const row: Record<string, unknown> = {
    mode,
    workers: n,
    processes: mode === 'pool-processes' ? 1 + n : procs,
    streams: procs * job.streams,
    [mode === 'ort-threads' ? 'callsPerSec' : 'streamSecondsPerSec']: round(done / wall),
    tokensPerSec: round(rs.reduce((a, r) => a + r.tokens, 0) / wall),
    cores: round(cpu / wall),
    mainThreadCores: round(rs.reduce((a, r) => a + r.mainThreadCpuSec, 0) / wall),
    seconds: round(wall),
  };
  if (sampled) row.threadStates = sampled;
  return row;
}

const round = (x: number): number => Math.round(x * 100) / 100;

if (!isMainThread) {
  await ortThread(workerData as { model: string; seconds: number });
} else if (process.argv[2] === '--child') {
  await child(JSON.parse(process.argv[3]) as ChildJob);
} else {
  const { values } = parseArgs({
    options: {
      model: { type: 'string', default: DEFAULT_MODEL },
      workers: { type: 'string', default: '1,2,4,8,16' },
      seconds: { type: 'string', default: '8' },
      'streams-per-worker': { type: 'string', default: '2' },
      modes: { type: 'string', default: 'threads,processes' },
      policy: { type: 'string', default: 'streaming' },
      sample: { type: 'boolean', default: false },
      json: { type: 'string' },
    },
  });
  const o = { model: values.model!, seconds: Number(values.seconds), spw: Number(values['streams-per-worker']), policy: values.policy!, sample: values.sample! };
  const levels = values.workers!.split(',').map(Number);
  const rows: Record<string, unknown>[] = [];
  for (const mode of values.modes!.split(',') as Mode[]) {
    let base: Record<string, unknown> | undefined;
    for (const n of levels) {
      const row = await level(mode, n, o);
      const rate = (r: Record<string, unknown>): number => (r.streamSecondsPerSec ?? r.callsPerSec) as number;
      base ??= row;
      row.speedup = round(rate(row) / rate(base));
      row.coresVs1 = round((row.cores as number) / (base.cores as number));
      rows.push(row);
      console.log(JSON.stringify(row));
      if (values.json) writeFileSync(values.json, JSON.stringify({ model: o.model, seconds: o.seconds, streamsPerWorker: o.spw, policy: o.policy, rows }, null, 1));
    }
  }
  console.table(rows.map(({ threadStates: _, ...r }) => r));
}
