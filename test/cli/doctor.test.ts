import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const cli = (args: string[]) => execFileSync(process.execPath, ['dist/src/cli.js', ...args], { encoding: 'utf8' });

describe('sightline doctor', () => {
  it('names a working ffmpeg and ffprobe and the cpu execution provider', () => {
    const report = JSON.parse(cli(['doctor', '--json']));
    for (const tool of ['ffmpeg', 'ffprobe']) {
      expect(report[tool].error).toBeUndefined();
      expect(report[tool].version).toMatch(/\S/);
      expect(['system', 'npm', 'env']).toContain(report[tool].origin);
    }
    const names = report.onnxruntime.providers.map((p: { name: string }) => p.name);
    expect(names).toContain('cpu');
  });

  it('falls back to the ffmpeg shipped in the npm package when the system has none', () => {
    const report = JSON.parse(
      execFileSync(process.execPath, ['dist/src/cli.js', 'doctor', '--json'], {
        encoding: 'utf8',
        env: { ...process.env, PATH: '/nonexistent' },
      }),
    );
    expect(report.ffmpeg.origin).toBe('npm');
    expect(report.ffmpeg.path).toContain('@ffmpeg-installer');
    expect(report.ffprobe.origin).toBe('npm');
  });

  it('rejects an unknown command with a non-zero exit', () => {
    expect(() => execFileSync(process.execPath, ['dist/src/cli.js', 'nope'], { stdio: 'pipe' })).toThrow();
  });
});
