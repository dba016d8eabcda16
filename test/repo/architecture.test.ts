/**
 * The dependency rules of docs/architecture.md, held against the code: docs/architecture.json names the
 * parts, the arrows between them as they are, and the imports that must never exist. An import that breaks
 * a never-rule, or joins two parts the map does not join, fails here, naming the file and its target.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { listFiles, partImports, type Architecture } from './imports.js';

const ROOT = join(import.meta.dirname, '..', '..');
const arch = JSON.parse(readFileSync(join(ROOT, 'docs', 'architecture.json'), 'utf8')) as Architecture;
/** The CLI may import every part; every part may import Shared (one error type, package paths). */
const FREE_FROM = 'CLI';
const FREE_TO = 'Shared';

describe('architecture: imports between parts', () => {
  const imports = partImports(ROOT, arch);

  it('reads the imports of every part (the check is not vacuous)', () => {
    const seen = new Set(imports.map((i) => i.from));
    for (const part of ['CLI', 'Eval', 'Server', 'Stream', 'Model', 'Search', 'Synth']) expect(seen, part).toContain(part);
  });

  it('breaks no never-rule', () => {
    const broken = arch.never.flatMap(([from, to, why]) =>
      imports.filter((i) => i.from === from && i.to === to).map((i) => `${i.file} -> ${i.target} (never ${from} -> ${to}: ${why})`),
    );
    expect(broken).toEqual([]);
  });

  it('joins only parts that the map joins', () => {
    const allowed = new Set(arch.arrows.map(([from, to]) => `${from} -> ${to}`));
    const unmapped = imports
      .filter((i) => i.from !== FREE_FROM && i.to !== FREE_TO && !allowed.has(`${i.from} -> ${i.to}`))
      .map((i) => `${i.file} -> ${i.target} (${i.from} -> ${i.to} is not an arrow of docs/architecture.json)`);
    expect(unmapped).toEqual([]);
  });

  it('only src/model imports onnxruntime or starts worker threads (one owner of sessions, providers, workers)', () => {
    const owners = listFiles(ROOT, ['src', 'eval']).filter((f) => /from ['"](onnxruntime-node|node:worker_threads)['"]|import\(['"]onnxruntime-node['"]\)/.test(readFileSync(join(ROOT, f), 'utf8')));
    expect(owners.length).toBeGreaterThan(0);
    expect(owners.filter((f) => !f.startsWith('src/model/'))).toEqual([]);
  });

  it('nothing imports the CLI', () => {
    expect(imports.filter((i) => i.to === 'CLI').map((i) => i.file)).toEqual([]);
  });
});

describe('architecture: the import reader', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sightline-arch-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (file: string, text: string) => {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), text);
  };

  it('finds static, re-exported and dynamic imports that go the wrong way, and ignores packages', () => {
    write('src/cache/a.ts', "import { x } from '../server/b.js';\nimport ort from 'onnxruntime-node';\n");
    write('src/cache/c.ts', "export type { Y } from '../stream/d.js';\nconst m = await import('../server/b.js');\n");
    write('src/server/b.ts', "import type { Z } from '../cache/a.js';\n");
    write('src/stream/d.ts', 'export type Y = 1;\n');
    const found = partImports(dir, arch).map((i) => `${i.from}:${i.file}->${i.target}`).sort();
    expect(found).toEqual([
      'Cache:src/cache/a.ts->src/server/b.ts',
      'Cache:src/cache/c.ts->src/server/b.ts',
      'Cache:src/cache/c.ts->src/stream/d.ts',
      'Server:src/server/b.ts->src/cache/a.ts',
    ]);
  });
});
