import { execFile, spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { MEDIA_DIR, testsrc20Ts, testsrc60Mp4 } from './media.js';

/** Runs the CLI from source through tsx (the suite may run before `npm run build`). */
const CLI = ['--import', 'tsx', 'src/cli.ts'];
const run = promisify(execFile);

function cliWithStdin(args: string[], stdinPath: string): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('node', [...CLI, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    createReadStream(stdinPath).pipe(child.stdin).on('error', reject);
    child.once('exit', (code) => resolve({ code, stdout }));
  });
}

describe('sightline ingest (CLI)', () => {
  it('--json prints exactly one line per 1-second chunk', async () => {
    const { stdout } = await run('node', [...CLI, 'ingest', await testsrc60Mp4(), '--json', '--seconds', '5', '--size', '64x48']);
    const lines = stdout.trim().split('\n');
    expect(lines.map((l) => JSON.parse(l))).toEqual([0, 1, 2, 3, 4].map((start) => ({ start, frames: 2, dropped: 0 })));
  });

  it('reads stdin with "-"', async () => {
    const { code, stdout } = await cliWithStdin(['ingest', '-', '--json', '--fps', '1', '--size', '32'], await testsrc20Ts());
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(20);
    expect(lines.every((l) => l.frames === 1)).toBe(true);
  });

  it('a bad source prints one line "sightline: <source>: <cause>" and exits non-zero', async () => {
    const missing = join(MEDIA_DIR, 'nope.mp4');
    const error = await run('node', [...CLI, 'ingest', missing, '--json']).catch((e) => e);
    expect(error.code).not.toBe(0);
    expect(error.stdout).toBe('');
    expect(error.stderr.trim().split('\n')).toEqual([`sightline: ${missing}: file not found (No such file or directory)`]);
  });

  it('rejects a malformed --size', async () => {
    const error = await run('node', [...CLI, 'ingest', 'x.mp4', '--size', 'big']).catch((e) => e);
    expect(error.code).not.toBe(0);
    expect(error.stderr).toMatch(/expected N or WxH/);
  });
});
