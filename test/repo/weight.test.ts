/**
 * The repository's weight (issue: a checkout must travel to the GPU machine beside the GPU bundle) and what
 * `npm pack` ships. A retrain that adds a second copy of a model, or results that no doc links, fail here
 * rather than growing every clone.
 */
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
/** docs/repo-weight.md: tracked files stay under this many bytes. */
const TRACKED_BUDGET_BYTES = 24_000_000;

describe('repository weight', () => {
  it(`tracked files total at most ${TRACKED_BUDGET_BYTES} bytes`, () => {
    const files = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' }).split('\0').filter(Boolean);
    // a path git lists but the work tree lacks (deleted, not yet committed) weighs nothing
    const sizes = files.map((f) => { try { return [f, statSync(join(ROOT, f)).size] as const; } catch { return [f, 0] as const; } });
    const total = sizes.reduce((a, [, s]) => a + s, 0);
    const largest = [...sizes].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([f, s]) => `${f} ${s}`).join(', ');
    expect(total, `largest: ${largest}`).toBeLessThanOrEqual(TRACKED_BUDGET_BYTES);
  });

  it('npm pack ships only what runs: the build, the web page and the model files the runtime loads', () => {
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const files = (JSON.parse(out) as { files: { path: string }[] }[])[0].files.map((f) => f.path);
    const runs = [
      /^(package\.json|README\.md|LICENSE)$/,
      /^dist\//,
      /^web\//,
      /^models\/[^/]+\/(config\.json|tokenizer\.json|tokenizer_config\.json|embed_tokens\.bin|ood\.json|README\.md|[^/]+\.onnx)$/,
    ];
    expect(files.filter((f) => !runs.some((r) => r.test(f)))).toEqual([]);
    expect(files).toContain('models/sightline-commentator-v5-int8/decoder.onnx');
    expect(files.filter((f) => f.startsWith('models/') && /reference\.json$|train-log|report/.test(f))).toEqual([]);
  });
});
