/** `npm run bench`: the index lists the benches of bench/ and runs one by name (no timing is asserted). */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const bench = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', ...args], { encoding: 'utf8', timeout: 60_000 });

describe('npm run bench', () => {
  it('is the bench index, a file that exists', () => {
    const { scripts } = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> };
    expect(scripts.bench).toBe('tsx bench/run.ts');
    expect(existsSync('bench/run.ts')).toBe(true);
  });

  it('lists every bench with its summary, and no helper module', () => {
    const r = bench();
    expect(r.status).toBe(0);
    const names = r.stdout.split('\n').filter((l) => l.startsWith('  ')).map((l) => l.trim().split(/\s+/)[0]);
    expect(names).toEqual(expect.arrayContaining(['synth-render', 'engine-cache', 'fanout', 'search-ann', 'ingest-cost']));
    for (const name of names) expect(existsSync(`bench/${name}.ts`), name).toBe(true);
    expect(names).not.toContain('temp-dir');
    expect(names).not.toContain('fanout-server');
    expect(r.stdout).toMatch(/synth-render +Synth render benchmark/);
  });

  it('runs a named bench with its arguments', () => {
    const r = bench('synth-render', '--seconds', '1', '--width', '64', '--height', '36');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^synth render: 1 s of video at 64x36 25 fps/);
    expect(r.stdout).toMatch(/render: \d+ frames\/s/);
  });

  it('refuses an unknown name with one clear line', () => {
    const r = bench('no-such-bench');
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe('bench: no benchmark named "no-such-bench" (run `npm run bench` for the list)');
  });
});
