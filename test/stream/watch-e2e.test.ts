/** `sightline watch --json` end to end: a generated H.264 file through ffmpeg ingest and the shipped model. */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const cli = (args: string[]) => execFileSync(process.execPath, ['dist/src/cli.js', ...args], { encoding: 'utf8', timeout: 120_000 });

describe('sightline watch --json', () => {
  it('prints one segment per second of a generated mp4 with exact timestamps, silence as " ..."', () => {
    const video = join(mkdtempSync(join(tmpdir(), 'sightline-watch-')), 'match.mp4');
    cli(['synth', '--seed', '6', '--seconds', '12', '--out', video]);
    const lines = cli(['watch', video, '--json']).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.start, l.end])).toEqual(Array.from({ length: 12 }, (_, s) => [s, s + 1]));
    for (const l of lines) {
      expect(l.type).toBe('segment');
      expect(typeof l.text).toBe('string');
      expect(l.text.trim().length).toBeGreaterThan(0);
    }
    // A match starts with a kickoff (spoken) and has quiet seconds (silence convention).
    expect(lines.some((l) => l.text === ' ...')).toBe(true);
    expect(lines.some((l) => l.text !== ' ...')).toBe(true);
  });

  it('a missing file is one line on stderr naming the file and the cause, exit 1', () => {
    const missing = join(mkdtempSync(join(tmpdir(), 'sightline-watch-')), 'nope.mp4');
    const r = spawnSync(process.execPath, ['dist/src/cli.js', 'watch', missing], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toEqual([`sightline: ${missing}: file not found (No such file or directory)`]);
  });
});
