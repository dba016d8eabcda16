/** `sightline eval streams` and `sightline eval efficiency` (eval/streams): flags, progress bars, Ctrl-C. */
import { InvalidArgumentError, type Command } from 'commander';
import cliProgress from 'cli-progress';
import { SightlineError } from '../errors.js';
import { evaluateEfficiency, evaluateStreams } from '../../eval/streams/evaluate.js';
import { EVAL_POLICIES, withShippedPolicy, type EvalPolicy } from '../../eval/streams/run-policy.js';
import type { JobEvent } from '../../eval/streams/runner.js';
import { DEFAULT_SUITE_MATCHES, externalSuite, syntheticSuite, TEST_SEEDS } from '../../eval/streams/suite.js';
import { defaultModelDir } from '../model/default-model.js';
import { nonNegativeInteger, positiveInteger, worldVersion } from './options.js';
import type { WorldVersion } from '../synth/index.js';

function policyList(value: string): EvalPolicy[] {
  const list = value.split(',').map((s) => s.trim()).filter(Boolean) as EvalPolicy[];
  const bad = list.find((p) => !EVAL_POLICIES.includes(p));
  if (list.length === 0 || bad) throw new InvalidArgumentError(`expected policies from ${EVAL_POLICIES.join(', ')}, got "${value}"`);
  return [...new Set(list)];
}

/** Ctrl-C / SIGTERM stop between seconds; what was written stays and the next run resumes. */
function interruptible(): { signal: AbortSignal; done(): void } {
  const abort = new AbortController();
  const stop = (): void => abort.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return { signal: abort.signal, done: () => (process.off('SIGINT', stop), process.off('SIGTERM', stop)) };
}

/**
 * Progress of the (video, policy) runs: on a terminal, an overall bar with ETA plus one bar per running
 * pair; otherwise one line per finished pair.
 */
function jobProgress(totalSec: number): { onJob(e: JobEvent): void; stop(): void } {
  const tty = process.stderr.isTTY === true;
  const multi = tty ? new cliProgress.MultiBar({ stream: process.stderr, clearOnComplete: false, hideCursor: true, etaBuffer: 60, format: '{name} [{bar}] {percentage}% | {value}/{total} s | ETA {eta_formatted}' }, cliProgress.Presets.shades_classic) : undefined;
  const overall = multi?.create(totalSec, 0, { name: 'all runs'.padEnd(28) });
  const bars = new Map<string, { bar?: cliProgress.SingleBar; done: number; from: number }>();
  let done = 0;
  return {
    onJob(e) {
      if (e.type === 'start') {
        // A resumed pair runs again from t0 (runner.ts), so its bar starts at 0 too.
        bars.set(e.key, { bar: multi?.create(e.totalSec, 0, { name: e.key.padEnd(28).slice(0, 28) }), done: 0, from: e.fromSec });
      } else if (e.type === 'second') {
        const b = bars.get(e.key);
        if (!b) return;
        b.done = e.endSec - b.from;
        b.bar?.update(b.done);
        overall?.update(done + [...bars.values()].reduce((n, x) => n + x.done, 0));
      } else {
        const b = bars.get(e.key);
        if (b?.bar) multi?.remove(b.bar);
        bars.delete(e.key);
        done += e.summary.toSec - e.summary.fromSec;
        overall?.update(done + [...bars.values()].reduce((n, x) => n + x.done, 0));
        if (!tty) {
          const cap = e.summary.capSec !== null ? `, cache cap at ${e.summary.capSec} s` : '';
          process.stderr.write(`${e.key}: ${e.skipped ? 'already done, skipped' : `done in ${e.summary.wallSec} s${cap}`}\n`);
        }
      }
    },
    stop: () => multi?.stop(),
  };
}

function renderProgress(totalSec: number): { onRender(seed: number, s: number): void; stop(): void } {
  let bar: cliProgress.SingleBar | undefined;
  let current = -1;
  return {
    onRender(seed, s) {
      if (seed !== current) {
        bar?.stop();
        current = seed;
        if (process.stderr.isTTY) {
          bar = new cliProgress.SingleBar({ stream: process.stderr, format: `render ${seed} [{bar}] {percentage}% | {value}/{total} s | ETA {eta_formatted}`, etaBuffer: 30 }, cliProgress.Presets.shades_classic);
          bar.start(totalSec, 0);
        } else process.stderr.write(`rendering held-out match ${seed}\n`);
      }
      bar?.update(s);
    },
    stop: () => bar?.stop(),
  };
}

interface StreamsFlags {
  model: string;
  out: string;
  cache: string;
  matches: number;
  seconds: number;
  t0?: number;
  quick?: boolean;
  policies: EvalPolicy[];
  data?: string;
  firstSeed: number;
  worldVersion: WorldVersion;
  resetEvery?: number;
  window?: number;
  bucket?: number;
  jobs: number;
  workers: number;
  judgeUrl?: string;
  judgeModel?: string;
  judgeKey?: string;
}

async function streams(f: StreamsFlags): Promise<void> {
  const seconds = f.quick ? 180 : f.seconds;
  const matches = f.quick ? 1 : f.matches;
  // --quick keeps the protocol's shape at a 40th of the length: t0 1000 s of 7200 -> 60 s of 180.
  const t0 = f.t0 ?? (f.quick ? 60 : 1000);
  const bucketSec = f.bucket ?? (f.quick ? 30 : 600);
  // 100-s windows and resets would leave a 2-minute stream one window and one reset: --quick uses 30 s.
  const windowSec = f.window ?? (f.quick ? 30 : 100);
  const resetEverySec = f.resetEvery ?? (f.quick ? 30 : 100);
  if (!f.data && t0 >= seconds) throw new SightlineError('bad_input', `--t0 ${t0} must be before the end of the match (--seconds ${seconds})`);
  if ((f.judgeUrl === undefined) !== (f.judgeModel === undefined)) throw new SightlineError('bad_input', 'the LLM judge needs both --judge-url and --judge-model (or SIGHTLINE_JUDGE_URL and SIGHTLINE_JUDGE_MODEL)');
  const { signal, done } = interruptible();
  const render = renderProgress(seconds);
  try {
    const cases = f.data ? await externalSuite(f.data) : await syntheticSuite({ cacheDir: f.cache, matches, seconds, firstSeed: f.firstSeed, world: f.worldVersion, signal, onRender: render.onRender });
    render.stop();
    const short = cases.find((c) => c.endSec <= t0);
    if (short) throw new SightlineError('bad_input', `${short.video}: --t0 ${t0} is not before the end of its reference (${short.endSec} s)`);
    const totalSec = cases.reduce((n, c) => n + Math.max(0, c.endSec - Math.min(t0, c.endSec)), 0) * f.policies.length;
    const progress = jobProgress(totalSec);
    const data = f.data ? `external Inf-Streams data ${f.data} (${cases.length} videos)` : `${cases.length} held-out synthetic match(es) of ${seconds} s (seeds ${cases.map((c) => c.id.replace('synth-', '')).join(', ')}), world version ${f.worldVersion}, 640x360 H.264 at 4 fps`;
    try {
      const result = await evaluateStreams({
        modelDir: f.model,
        cases,
        policies: f.policies,
        t0,
        outDir: f.out,
        data,
        command: `sightline ${process.argv.slice(2).join(' ')}`,
        resetEverySec,
        windowSec,
        bucketSec,
        jobs: f.jobs,
        workers: f.workers,
        llm: f.judgeUrl && f.judgeModel ? { baseUrl: f.judgeUrl, model: f.judgeModel, apiKey: f.judgeKey } : undefined,
        signal,
        onJob: progress.onJob,
      });
      progress.stop();
      process.stdout.write(`${result.goals.map((g) => `${g.met === null ? 'not measured' : g.met ? 'met' : 'NOT met'}: ${g.goal}: ${g.measured}`).join('\n')}\nreport: ${f.out}/report.md\n`);
    } finally {
      progress.stop();
    }
  } catch (err) {
    if (signal.aborted) throw new SightlineError('bad_input', `interrupted; finished runs are kept in ${f.out}/runs: run the same command again to resume`);
    throw err;
  } finally {
    render.stop();
    done();
  }
}

interface EfficiencyFlags {
  model: string;
  out: string;
  seconds: number;
  quick?: boolean;
  policies: EvalPolicy[];
  seed: number;
}

async function efficiency(f: EfficiencyFlags): Promise<void> {
  const seconds = f.quick ? 60 : f.seconds;
  const { signal, done } = interruptible();
  const progress = jobProgress(seconds * f.policies.length);
  try {
    const r = await evaluateEfficiency({ modelDir: f.model, seconds, policies: f.policies, outDir: f.out, seed: f.seed, command: `sightline ${process.argv.slice(2).join(' ')}`, signal, onJob: progress.onJob });
    progress.stop();
    process.stdout.write(`${r.flats.map((x) => `${x.policy}: step p50 ${x.stepP50Ms.map((v) => v.toFixed(1)).join(' -> ')} ms, KV ${x.kvBytes.map((v) => (v / 2 ** 20).toFixed(2)).join(' -> ')} MiB, RSS ${x.rssBytes.map((v) => (v / 2 ** 20).toFixed(0)).join(' -> ')} MiB`).join('\n')}\nreport: ${f.out}/efficiency.md\n`);
  } catch (err) {
    if (signal.aborted) throw new SightlineError('bad_input', `interrupted; finished runs are kept in ${f.out}/runs: run the same command again to resume`);
    throw err;
  } finally {
    progress.stop();
    done();
  }
}

export function registerEvalStreams(evalCmd: Command): void {
  const env = process.env;
  evalCmd
    .command('streams')
    .description('Inf-Streams-style evaluation: stream held-out matches (or --data) from t0 with every policy, judge, report with plots')
    .option('--model <dir>', 'model folder', defaultModelDir())
    .option('--out <dir>', 'report folder (runs/ inside it are resumed)', 'reports/streams')
    .option('--cache <dir>', 'where generated matches are kept', '.cache/eval')
    .option('--matches <n>', `held-out synthetic matches (seeds from --first-seed)`, positiveInteger, DEFAULT_SUITE_MATCHES)
    .option('--seconds <n>', 'seconds of each match', positiveInteger, 7200)
    .option('--t0 <s>', 'stream start; the reference before it is the previous text (default 1000; 60 with --quick)', nonNegativeInteger)
    .option('--quick', 'one 3-minute match, t0 60 s, 30-s buckets, windows and resets (for tests)')
    .option('--policies <list>', `policies, from ${EVAL_POLICIES.join(',')}`, policyList, withShippedPolicy(['streaming', 'resets', 'window', 'full']))
    .option('--data <file>', 'external data in the Inf-Streams layout ({video, content} rows, JSON or JSONL) instead of synthetic matches')
    .option('--first-seed <n>', `first held-out seed (test range ${TEST_SEEDS.first}-${TEST_SEEDS.last})`, nonNegativeInteger, TEST_SEEDS.first)
    .option('--world-version <n>', 'world version of the synthetic matches: 1 (scoreboard always on) or 2 (scoreboard at times, memory facts in the commentary)', worldVersion, 1)
    .option('--reset-every <s>', 'restart period of the resets baseline (default 100; 30 with --quick)', positiveInteger)
    .option('--window <s>', 'scoring window for text metrics and pairwise judging (default 100; 30 with --quick)', positiveInteger)
    .option('--bucket <s>', 'bucket of the quality-over-time table and plot (default 600; 30 with --quick)', positiveInteger)
    .option('--jobs <n>', '(video, policy) runs at once', positiveInteger, 4)
    .option('--workers <n>', 'engine worker threads', positiveInteger, 2)
    .option('--judge-url <url>', 'OpenAI-compatible base URL of an LLM judge (env SIGHTLINE_JUDGE_URL)')
    .option('--judge-model <name>', 'LLM judge model (env SIGHTLINE_JUDGE_MODEL)')
    .option('--judge-key <key>', 'LLM judge API key (env SIGHTLINE_JUDGE_KEY)')
    // Env read here, not as option defaults: --help would print the key.
    .action((f: StreamsFlags) =>
      streams({ ...f, judgeUrl: f.judgeUrl ?? env.SIGHTLINE_JUDGE_URL, judgeModel: f.judgeModel ?? env.SIGHTLINE_JUDGE_MODEL, judgeKey: f.judgeKey ?? env.SIGHTLINE_JUDGE_KEY }),
    );
  evalCmd
    .command('efficiency')
    .description('per-second step time, KV bytes and RSS over stream time, each policy alone, on the synthetic world')
    .option('--model <dir>', 'model folder', defaultModelDir())
    .option('--out <dir>', 'report folder (runs/ inside it are resumed)', 'reports/efficiency')
    .option('--seconds <n>', 'stream length in seconds', positiveInteger, 1800)
    .option('--quick', '60-second streams (for tests)')
    .option('--policies <list>', `policies, from ${EVAL_POLICIES.join(',')}`, policyList, withShippedPolicy(['streaming', 'window', 'full']))
    .option('--seed <n>', 'synthetic match seed', nonNegativeInteger, TEST_SEEDS.first)
    .action(efficiency);
}
