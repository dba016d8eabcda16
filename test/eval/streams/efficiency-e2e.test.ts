/**
 * `sightline eval efficiency` end to end with a tiny random model (fast, and its `full` cache fills in
 * about 100 s): one row per second per policy, `full` marked not produced after its cap, report and plots.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const rowsOf = (file: string) => readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));

describe('sightline eval efficiency', () => {
  it('records cost per second per policy and where full hits its cap', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'sightline-eff-')), 'eff');
    const stdout = execFileSync(process.execPath, ['dist/src/cli.js', 'eval', 'efficiency', '--seconds', '130', '--policies', 'streaming,full', '--model', 'test/fixtures/models/tiny-random-1l', '--out', out], { encoding: 'utf8', timeout: 120_000 });
    expect(stdout).toMatch(/^streaming: step p50 .* ms, KV .* MiB, RSS .* MiB$/m);
    const runs = join(out, 'runs', 'synth-300000');
    const streaming = rowsOf(join(runs, 'streaming.jsonl'));
    expect(streaming.map((r) => r.start_time)).toEqual(Array.from({ length: 130 }, (_, i) => i));
    expect(streaming.every((r) => typeof r.response === 'string' && r.kv_bytes > 0 && r.rss_bytes > 0)).toBe(true);

    const full = rowsOf(join(runs, 'full.jsonl'));
    const cap = JSON.parse(readFileSync(join(runs, 'full.done.json'), 'utf8')).capSec as number;
    expect(cap).toBeGreaterThan(0);
    expect(cap).toBeLessThan(130);
    expect(full.map((r) => [r.start_time, r.end_time])).toEqual(Array.from({ length: 130 }, (_, i) => [i, i + 1]));
    expect(full.slice(0, cap).every((r) => typeof r.response === 'string')).toBe(true);
    expect(full.slice(cap).every((r) => r.response === null && r.step_ms === undefined)).toBe(true);
    // full never evicts: its KV rows only grow; streaming's stay bounded by sinks + window.
    const fullKv = full.slice(0, cap).map((r) => r.kv_tokens);
    expect(fullKv.every((t, i) => i === 0 || t > fullKv[i - 1])).toBe(true);
    expect(Math.max(...streaming.map((r) => r.kv_tokens))).toBeLessThan(fullKv.at(-1));

    const report = readFileSync(join(out, 'efficiency.md'), 'utf8');
    expect(report).toContain(`Cache cap reached: \`full\` at ${Math.floor(cap / 60)}:${String(cap % 60).padStart(2, '0')}`);
    expect(report).toMatch(/^\| streaming \| [\d.]+ \/ [\d.]+ \|/m);
    expect(readdirSync(join(out, 'plots')).sort()).toEqual(['kv-bytes.svg', 'latency.svg', 'rss.svg']);
  });
});
