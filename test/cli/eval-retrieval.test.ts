/**
 * `sightline eval retrieval --quick` end to end through the built CLI: one held-out match rendered to
 * H.264, decoded by the ingest, embedded by the shipped model and by a renamed copy of it (the two-model
 * report path: identical weights must give a margin of exactly zero), scored and reported. Uses its own
 * cache folder, so the render really happens (about a minute on 2 cores).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { retrievalMetrics } from '../../eval/retrieval-metrics.js';
import { SHIPPED_MODEL_DIR } from '../../src/model/default-model.js';

const dir = mkdtempSync(join(tmpdir(), 'sightline-eval-retrieval-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[], timeoutMs: number): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['dist/src/cli.js', 'eval', 'retrieval', ...args], { encoding: 'utf8', timeout: timeoutMs });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface Summary {
  r1: number;
  r5: number;
  r10: number;
  medianRank: number;
  meanRank: number;
}

describe('sightline eval retrieval', () => {
  it('--quick writes a markdown + JSON report of two models with consistent, better-than-chance metrics', () => {
    const out = join(dir, 'report');
    const cache = join(dir, 'cache');
    const shipped = join(import.meta.dirname, '..', '..', 'models', 'sightline-retrieval-v1');
    const copy = join(dir, 'copy');
    cpSync(shipped, copy, { recursive: true });
    const config = JSON.parse(readFileSync(join(copy, 'config.json'), 'utf8'));
    writeFileSync(join(copy, 'config.json'), JSON.stringify({ ...config, name: 'sightline-retrieval-v1-copy' }));
    const r = cli(['--quick', '--models', `${shipped},${copy}`, '--out', out, '--cache', cache], 420_000);
    expect(r.stderr).not.toMatch(/^sightline:/m);
    expect(r.status).toBe(0);

    const md = readFileSync(join(out, 'retrieval.md'), 'utf8');
    expect(r.stdout).toBe(md);
    expect(md).toMatch(/^# Retrieval evaluation/);
    expect(md).toContain('| model | direction | R@1 | R@5 | R@10 | MdR | MnR |');
    for (const name of ['sightline-retrieval-v1 (prompt-switch)', 'sightline-retrieval-v1-copy (prompt-switch)']) {
      expect(md).toContain(`| ${name} | text-to-video |`);
      expect(md).toContain(`| ${name} | video-to-text |`);
    }
    expect(md).toMatch(/minus .* R@1:\*\* text-to-video \+0\.0 points, video-to-text \+0\.0 points/);

    const json = JSON.parse(readFileSync(join(out, 'retrieval.json'), 'utf8'));
    const n: number = json.pairs;
    // One 600 s match holds 60 clips; a few captions repeat within a match, so slightly fewer pairs.
    expect(n).toBeGreaterThanOrEqual(50);
    expect(n).toBeLessThanOrEqual(60);
    expect(json.seeds).toEqual([300000]);

    const pairs = readFileSync(join(out, 'pairs.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(pairs).toHaveLength(n);
    expect(new Set(pairs.map((p: { caption: string }) => p.caption)).size).toBe(n);
    for (const [i, p] of pairs.entries()) {
      expect(p.end - p.start).toBe(10);
      if (i > 0) expect(p.start).toBeGreaterThan(pairs[i - 1].start);
    }

    expect(json.models.map((m: { name: string }) => m.name)).toEqual(['sightline-retrieval-v1', 'sightline-retrieval-v1-copy']);
    expect(json.models[1].metrics).toEqual(json.models[0].metrics);
    for (const m of json.models) {
      const sim = new Float32Array(readFileSync(join(out, m.similarityFile)).buffer.slice(0));
      expect(sim.length).toBe(n * n);
      // The reported numbers are those of the similarity matrix written beside them.
      expect(retrievalMetrics(sim, n)).toEqual(m.metrics);
      for (const dir of ['textToVideo', 'videoToText'] as const) {
        const s: Summary = m.metrics[dir];
        expect(0 <= s.r1 && s.r1 <= s.r5 && s.r5 <= s.r10 && s.r10 <= 100).toBe(true);
        expect(s.medianRank).toBeGreaterThanOrEqual(1);
        expect(s.meanRank).toBeGreaterThanOrEqual(1);
        expect(m.ranks[dir]).toHaveLength(n);
        // Chance would put the true item at mean rank (n + 1) / 2 and R@5 at 5 / n; a pipeline that
        // feeds the wrong frames or misaligns captions lands there.
        expect(s.meanRank).toBeLessThan(n / 6);
        expect(s.r5).toBeGreaterThan(50);
      }
    }
    // The render is cached for the next run.
    expect(readdirSync(cache).some((f) => /^retrieval-300000-600s-640x360-2fps-clip10\.mp4$/.test(f))).toBe(true);
  }, 480_000);

  it('--caption-version 2 scores the same clips of the cached match with version-2 captions, simulated, not rendered again', () => {
    const cache = join(dir, 'cache');
    const video = join(cache, 'retrieval-300000-600s-640x360-2fps-clip10.mp4');
    const renderedAt = existsSync(video) ? statSync(video).mtimeMs : undefined;
    const out = join(dir, 'report-v2');
    const r = cli(['--quick', '--caption-version', '2', '--out', out, '--cache', cache], 420_000);
    expect(r.stderr).not.toMatch(/^sightline:/m);
    expect(r.status).toBe(0);
    if (renderedAt !== undefined) expect(statSync(video).mtimeMs).toBe(renderedAt);
    expect(existsSync(join(cache, 'retrieval-300000-600s-640x360-2fps-clip10.captions-v2.jsonl'))).toBe(true);
    const json = JSON.parse(readFileSync(join(out, 'retrieval.json'), 'utf8'));
    expect(json.captionVersion).toBe(2);
    expect(json.seeds).toEqual([300000]);
    const pairs = readFileSync(join(out, 'pairs.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(pairs).toHaveLength(json.pairs);
    for (const p of pairs) expect(p.caption).toMatch(/ minute of the first half: .+ (on|keep) the ball (in|at) /);
    expect(readFileSync(join(out, 'retrieval.md'), 'utf8')).toContain('Captions: version 2');
  }, 480_000);

  it('rejects an unknown caption version with one clear line', () => {
    const r = cli(['--quick', '--caption-version', '4', '--out', join(dir, 'z')], 60_000);
    expect(r.status).not.toBe(0);
    expect(r.stderr.trim().split('\n').filter((l) => !l.startsWith('(run with'))).toEqual([expect.stringMatching(/--caption-version.*expected a caption version of 1, 2 or 3, got "4"/)]);
  });

  it('a missing model folder is one clear error, before any rendering', () => {
    const cache = join(dir, 'cache-missing');
    const missing = join(dir, 'no-such-model');
    const r = cli(['--quick', '--models', missing, '--out', join(dir, 'x'), '--cache', cache], 60_000);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([`sightline: retrieval model folder ${missing}: not found`]);
    expect(existsSync(cache)).toBe(false);
  });

  it('a folder that is not a retrieval model is named with the cause', () => {
    const r = cli(['--quick', '--models', SHIPPED_MODEL_DIR, '--out', join(dir, 'y'), '--cache', join(dir, 'cache-wrong')], 60_000);
    expect(r.status).toBe(1);
    expect(r.stderr.startsWith(`sightline: retrieval model folder ${SHIPPED_MODEL_DIR}: config.json is not a sightline-retrieval config: format`)).toBe(true);
  });
});
