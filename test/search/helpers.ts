/** Shared set-up for the search tests: the built CLI, synthetic matches with captions, small bad files. */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MEDIA_DIR } from '../ingest/media.js';

export const CLI = 'dist/src/cli.js';
export const RETRIEVAL_MODEL = join(import.meta.dirname, '..', '..', 'models', 'sightline-retrieval-v1');

/** Newest mtime under a folder, to rebuild dist only when sources changed. */
function newest(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((n) => newest(join(path, n))));
}

export function ensureBuilt(): void {
  let built = 0;
  try {
    built = statSync('dist/src/cli/search.js').mtimeMs;
  } catch {
    built = 0;
  }
  if (built < newest('src')) execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
}

export interface Caption {
  video: string;
  start: number;
  end: number;
  caption: string;
}

/**
 * A held-out synthetic match (seed >= 300000: never seen in training) rendered by the built CLI with
 * its clip captions (src/synth/captions.ts); cached across runs in the test media folder.
 */
export function synthMatch(seed: number, seconds: number): { video: string; captions: Caption[] } {
  const video = join(MEDIA_DIR, `synth-${seed}-${seconds}s.mp4`);
  const captions = join(MEDIA_DIR, `synth-${seed}-${seconds}s.jsonl`);
  if (!existsSync(video) || !existsSync(captions)) {
    const tmp = join(MEDIA_DIR, `.${process.pid}.synth-${seed}`);
    const r = spawnSync('node', [CLI, 'synth', '--seed', String(seed), '--seconds', String(seconds), '--fps', '10', '--out', `${tmp}.mp4`, '--captions', `${tmp}.jsonl`], { encoding: 'utf8', timeout: 120_000 });
    if (r.status !== 0) throw new Error(`synth failed: ${r.stderr}`);
    renameSync(`${tmp}.jsonl`, captions);
    renameSync(`${tmp}.mp4`, video);
  }
  return { video, captions: readFileSync(captions, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Caption) };
}

/** A text file with a video extension, and an mp4 cut short (header intact, most of the data gone). */
export function badFiles(dir: string, goodMp4: string): { notVideo: string; truncated: string } {
  const notVideo = join(dir, 'notes.mp4');
  writeFileSync(notVideo, 'this is not a video\n');
  const truncated = join(dir, 'truncated.mp4');
  writeFileSync(truncated, readFileSync(goodMp4).subarray(0, 60_000));
  return { notVideo, truncated };
}

/** Runs the built CLI to completion. */
export function cli(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('node', [CLI, ...args], { encoding: 'utf8', timeout: 240_000, env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export const jsonLines = (s: string): any[] => s.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
