/**
 * `sightline eval streams --quick` end to end on a generated 3-minute match with the shipped model:
 * every policy, one row per second with exact timestamps, report and plots; interrupted with SIGINT and
 * resumed (finished pairs skipped, the partial one completed without duplicates); then the same video
 * as external Inf-Streams data.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI; `interruptWhen` is polled and the process gets SIGINT once it returns true. */
function cli(args: string[], interruptWhen?: () => boolean): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['dist/src/cli.js', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const poll = interruptWhen
      ? setInterval(() => {
          if (interruptWhen()) {
            child.kill('SIGINT');
            clearInterval(poll);
          }
        }, 50)
      : undefined;
    const kill = setTimeout(() => child.kill('SIGKILL'), 170_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(poll);
      clearTimeout(kill);
      resolve({ code, stdout, stderr });
    });
  });
}

const rowsOf = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : []);
// The protocol's policies, named so the run's length stays within the test's budget (the default list also
// has the shipped `refresh`, checked below through --help and run alone in its own test).
const POLICIES = ['streaming', 'resets', 'window', 'full'];

describe('sightline eval streams --quick', () => {
  it('runs every policy, resumes after an interruption, writes the report and plots', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sightline-streams-'));
    const out = join(dir, 'report');
    const runs = join(out, 'runs', 'synth-300000');
    const args = ['eval', 'streams', '--quick', '--policies', POLICIES.join(','), '--out', out, '--cache', join(dir, 'cache'), '--jobs', '2'];

    // Two pairs at a time: interrupt once the first two are done and the third has some seconds.
    const first = await cli(args, () => existsSync(join(runs, 'streaming.done.json')) && existsSync(join(runs, 'resets.done.json')) && rowsOf(join(runs, 'window.jsonl')).length >= 3);
    expect(first.code).not.toBe(0);
    expect(first.stderr).toMatch(/interrupted; finished runs are kept in .*run the same command again to resume/);
    expect(existsSync(join(runs, 'window.done.json'))).toBe(false);
    const partial = rowsOf(join(runs, 'window.jsonl')).length;
    expect(partial).toBeGreaterThanOrEqual(3);
    expect(partial).toBeLessThan(120);
    const doneAt = statSync(join(runs, 'streaming.done.json')).mtimeMs;
    const streamingRows = readFileSync(join(runs, 'streaming.jsonl'), 'utf8');

    const second = await cli(args);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain('synth-300000/streaming: already done, skipped');
    expect(second.stderr).toContain('synth-300000/resets: already done, skipped');
    expect(statSync(join(runs, 'streaming.done.json')).mtimeMs).toBe(doneAt);
    expect(readFileSync(join(runs, 'streaming.jsonl'), 'utf8')).toBe(streamingRows);

    // One row per second from t0 = 60 s to the end, exact timestamps, in order, no duplicates.
    for (const policy of POLICIES) {
      const rows = rowsOf(join(runs, `${policy}.jsonl`));
      expect(rows.map((r) => [r.start_time, r.end_time]), policy).toEqual(Array.from({ length: 120 }, (_, i) => [60 + i, 61 + i]));
      for (const r of rows) {
        expect(typeof r.response === 'string' || r.response === null).toBe(true);
        if (r.response !== null) expect(r.step_ms).toBeGreaterThan(0);
      }
      const summary = JSON.parse(readFileSync(join(runs, `${policy}.done.json`), 'utf8'));
      expect(summary).toMatchObject({ policy, fromSec: 60, resumeMismatches: 0 });
    }
    // `window` keeps no previous text, so its cache holds fewer rows than streaming's at every second.
    const kv = (p: string) => rowsOf(join(runs, `${p}.jsonl`)).map((r) => r.kv_tokens as number);
    expect(kv('window').every((t, i) => t < kv('streaming')[i])).toBe(true);
    // resets: identical to streaming until the first restart at t0 + 30 s, then a fresh cache.
    expect(kv('resets').slice(0, 30)).toEqual(kv('streaming').slice(0, 30));
    expect(kv('resets')[30]).toBeLessThan(kv('streaming')[30]);
    expect(JSON.parse(readFileSync(join(runs, 'resets.done.json'), 'utf8')).resets).toBe(3);

    const report = readFileSync(join(out, 'report.md'), 'utf8');
    expect(report).toContain('## Goals');
    for (const goal of ['within 2 points', 'window (no sinks) degrades', 'streaming beats 100-s resets', 'flat latency and memory']) expect(report).toContain(goal);
    for (const policy of POLICIES) expect(report).toMatch(new RegExp(`^\\| ${policy} \\| \\d`, 'm'));
    expect(report).toMatch(/\| streaming vs resets \| metrics \|/);
    const plots = readdirSync(join(out, 'plots')).sort();
    expect(plots).toEqual(['kv-bytes.svg', 'latency.svg', 'quality.svg', 'rss.svg', 'win-rates.svg']);
    for (const p of plots) expect(readFileSync(join(out, 'plots', p), 'utf8')).toMatch(/^<svg[\s\S]*<\/svg>\n$/);
    expect(second.stdout).toMatch(/report: .*report\.md/);

    // The cached match as external Inf-Streams data: scored by text similarity (no structured truth).
    const truth = JSON.parse(readFileSync(join(dir, 'cache', 'match-300000-180s-4fps.truth.json'), 'utf8'));
    expect(truth.video).toBe('match-300000-180s-4fps.mp4');
    const data = join(dir, 'cache', 'data.jsonl');
    writeFileSync(data, `${JSON.stringify(truth)}\n`);
    // With an LLM judge configured: a local fake endpoint that always answers "A" (the text shown first).
    let asked = 0;
    const judge = createServer((req, res) => {
      req.resume().on('end', () => {
        asked++;
        res.setHeader('content-type', 'application/json').end(JSON.stringify({ choices: [{ message: { content: 'A' } }] }));
      });
    });
    await new Promise<void>((r) => judge.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(judge.address() as AddressInfo).port}/v1`;
    try {
      const ext = await cli(['eval', 'streams', '--data', data, '--t0', '150', '--policies', 'streaming,window', '--window', '10', '--out', join(dir, 'ext'), '--judge-url', url, '--judge-model', 'fake']);
      expect(ext.code, ext.stderr).toBe(0);
    } finally {
      judge.close();
    }
    expect(rowsOf(join(dir, 'ext', 'runs', 'match-300000-180s-4fps', 'streaming.jsonl'))).toHaveLength(30);
    const extReport = readFileSync(join(dir, 'ext', 'report.md'), 'utf8');
    expect(extReport).toContain('Quality = combined text score');
    // Every window asked in both orders; "A" in both orders is one vote each way: 50%.
    const llmRow = /^\| streaming vs window \| llm:fake \| 50\.0% \| (\d+) \| (\d+) \| 0 \| 0 \| (\d+) \|$/m.exec(extReport);
    expect(llmRow, extReport).not.toBeNull();
    const [votesA, votesB, windows] = llmRow!.slice(1).map(Number);
    expect(votesA).toBe(windows);
    expect(votesB).toBe(windows);
    expect(asked).toBe(2 * windows);
  }, 180_000);

  it('runs the shipped default cache policy (refresh) beside window on world version 2, with the memory-fact table', async () => {
    // Every policy the cache supports is accepted; the tiny model keeps this quick.
    const dir = mkdtempSync(join(tmpdir(), 'sightline-refresh-'));
    const out = join(dir, 'report');
    const r = await cli(['eval', 'streams', '--quick', '--policies', 'refresh,window', '--world-version', '2', '--model', 'test/fixtures/models/tiny-random-1l', '--out', out, '--cache', join(dir, 'cache')]);
    expect(r.code, r.stderr).toBe(0);
    const runs = join(out, 'runs', 'synth-300000');
    expect(readdirSync(runs).sort()).toEqual(['refresh.done.json', 'refresh.jsonl', 'window.done.json', 'window.jsonl']);
    expect(JSON.parse(readFileSync(join(runs, 'refresh.done.json'), 'utf8'))).toMatchObject({ policy: 'refresh', fromSec: 60, toSec: 180, capSec: null });
    const rows = rowsOf(join(runs, 'refresh.jsonl'));
    expect(rows[0].start_time).toBe(60);
    expect(rows.at(-1).end_time).toBe(180);
    // World 2 matches are cached under their own name, with per-second memory facts beside them.
    expect(readdirSync(join(dir, 'cache')).sort()).toEqual(['match-300000-180s-4fps-w2.events.jsonl', 'match-300000-180s-4fps-w2.facts.jsonl', 'match-300000-180s-4fps-w2.mp4', 'match-300000-180s-4fps-w2.truth.json']);
    const report = readFileSync(join(out, 'report.md'), 'utf8');
    expect(report).toMatch(/^\| refresh \| \d/m);
    expect(report).toContain('world version 2');
    // The default policy is judged against the baselines, and the memory facts are reported per policy and half.
    expect(report).toMatch(/^\| refresh vs window \| metrics \|/m);
    expect(report).toContain('## Memory facts');
    for (const row of ['refresh, first half', 'refresh, second half', '\\*\\*refresh, all\\*\\*', 'window, first half', 'window, second half']) {
      expect(report).toMatch(new RegExp(`^\\| ${row} \\| (\\d+\\.\\d|n/a) \\| \\d+ \\| \\d+ \\| \\d+ of \\d+ \\|`, 'm'));
    }
    expect(report).toContain('memory-fact accuracy in second half >= window + 10 points');
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    const refresh = summary.overall.find((p: { policy: string }) => p.policy === 'refresh');
    expect(Object.keys(refresh.overall.memory).sort()).toEqual(['opener', 'score', 'shots', 'sinceGoal', 'tally']);
    // The reference of a world-2 match states memory facts: something the model could have said.
    const reference = Object.values(refresh.overall.memory as Record<string, { reference: number }>).reduce((n, k) => n + k.reference, 0);
    expect(reference).toBeGreaterThan(0);
    // ...and a default run measures it beside the protocol's policies.
    const help = await cli(['eval', 'streams', '--help']);
    expect(help.stdout.replace(/\s+/g, ' ')).toContain('(default: ["streaming","resets","window","full","refresh"])');
  }, 120_000);

  it('rejects bad input with one clear line', async () => {
    const bad = async (args: string[]) => {
      const r = await cli(['eval', 'streams', '--out', join(tmpdir(), 'sightline-never'), ...args]);
      expect(r.code).not.toBe(0);
      return r.stderr.trim();
    };
    expect(await bad(['--policies', 'streaming,bogus'])).toMatch(/expected policies from streaming, refresh, full, window, recompute, resets, got "streaming,bogus"/);
    expect(await bad(['--seconds', '100'])).toBe('sightline: --t0 1000 must be before the end of the match (--seconds 100)');
    expect(await bad(['--first-seed', '100000', '--matches', '2'])).toBe('sightline: held-out seeds must lie in the test range 300000-300099, got 100000-100001');
    expect(await bad(['--data', join(tmpdir(), 'sightline-missing.jsonl')])).toMatch(/sightline-missing\.jsonl: cannot read the evaluation data: ENOENT$/);
    expect(await bad(['--quick', '--judge-url', 'http://127.0.0.1:9/v1'])).toMatch(/needs both --judge-url and --judge-model/);
  });
});
