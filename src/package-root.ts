import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The package root (package.json, models/, web/). Found by walking up from this file to the sightline
 * package.json, so shipped files resolve alike from src/ (tsx), dist/src/ (built) and a bundle kept inside
 * the checkout, whatever the working directory.
 */
function findPackageRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (let dir = here; ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'sightline') return dir;
    // no sightline package.json above (a copied build): this file sits in src/ or dist/src/ under the root
    if (dirname(dir) === dir) return join(here, basename(dirname(here)) === 'dist' ? '../..' : '..');
  }
}

let root: string | undefined;

/** A path inside the package, e.g. `packagePath('models', 'sightline-commentator-v5')`. */
export function packagePath(...parts: string[]): string {
  root ??= findPackageRoot();
  return join(root, ...parts);
}
