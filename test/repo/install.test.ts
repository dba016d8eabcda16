/**
 * Install and first-run papercuts: install never downloads the CUDA provider on any npm (the `.npmrc` flag
 * onnxruntime-node's install script reads, and its postinstall denied where npm honours allowScripts), and
 * the README tells to run `npx sightline`.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';

describe('install', () => {
  it("npm hands onnxruntime-node's install script the skip flag (npm versions without allowScripts too)", () => {
    expect(fs.readFileSync('.npmrc', 'utf8')).toMatch(/^onnxruntime-node-install=skip$/m);
    // what the install script sees: npm exports project config to scripts as npm_config_*
    const r = spawnSync('npm', ['exec', '--', 'node', '-e', 'process.stdout.write(String(process.env.npm_config_onnxruntime_node_install))'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('skip');
  });

  it("denies onnxruntime-node's install script (the CUDA download) and approves the ones the project needs", () => {
    const pkg = JSON.parse(fs.readFileSync('package.json', 'utf8'));
    expect(pkg.allowScripts['onnxruntime-node']).toBe(false);
    const lock = JSON.parse(fs.readFileSync('package-lock.json', 'utf8'));
    const scripted = Object.entries(lock.packages as Record<string, { hasInstallScript?: boolean }>)
      .filter(([, p]) => p.hasInstallScript)
      .map(([path]) => path.replace(/^.*node_modules\//, ''));
    // Every dependency with an install script is decided one way or the other (npm warns about the rest).
    for (const name of scripted) expect(pkg.allowScripts[name], name).toBeTypeOf('boolean');
  });

  it('the README says how to run the CLI after npm install (npx sightline)', () => {
    const readme = fs.readFileSync('README.md', 'utf8');
    expect(readme).toContain('`npx sightline ...`');
    expect(readme).toContain('npm start` runs `npx sightline serve --demo`');
  });
});
