/**
 * The import graph between the parts that docs/architecture.json names: each source file under a part's
 * folders, each relative import resolved to the part that holds its target.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

export interface Architecture {
  parts: Record<string, { is: string[]; says: string }>;
  arrows: [from: string, to: string, why?: string][];
  never: [from: string, to: string, why: string][];
}

export interface PartImport {
  from: string;
  to: string;
  file: string;
  target: string;
}

function sourceFiles(root: string, dir: string): string[] {
  const abs = join(root, dir);
  if (!statSync(abs, { throwIfNoEntry: false })) return [];
  if (statSync(abs).isFile()) return [dir];
  return readdirSync(abs, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(root, join(dir, e.name)) : /\.(ts|js)$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}

/** Source files (.ts, .js) under the given folders of root, as root-relative paths. */
export function listFiles(root: string, dirs: string[]): string[] {
  return dirs.flatMap((d) => sourceFiles(root, d));
}

export function partOf(arch: Architecture, file: string): string | undefined {
  for (const [name, part] of Object.entries(arch.parts)) {
    if (part.is.some((p) => (p.endsWith('/') ? file.startsWith(p) : file === p))) return name;
  }
  return undefined;
}

// static `import ... from '...'`, `export ... from '...'` and dynamic `import('...')` with a literal path
const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

export function partImports(root: string, arch: Architecture): PartImport[] {
  const out: PartImport[] = [];
  const files = [...new Set(Object.values(arch.parts).flatMap((p) => p.is.flatMap((d) => sourceFiles(root, d))))];
  for (const file of files) {
    const from = partOf(arch, file)!;
    for (const m of readFileSync(join(root, file), 'utf8').matchAll(IMPORT)) {
      const spec = m[1] ?? m[2];
      if (!spec.startsWith('.')) continue; // packages and node: builtins
      const target = relative(root, resolve(root, dirname(file), spec)).replace(/\.js$/, '.ts');
      const to = partOf(arch, target);
      if (to && to !== from) out.push({ from, to, file, target });
    }
  }
  return out;
}
