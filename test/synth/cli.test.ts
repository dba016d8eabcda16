import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ffprobePath } from '../../src/ingest/ffmpeg-binary.js';
import { frames, simulateTruth } from '../../src/synth/index.js';

const CLI = 'dist/src/cli.js';
const dir = mkdtempSync(join(tmpdir(), 'sightline-synth-'));

/** Newest mtime under a folder, to rebuild dist only when sources changed. */
function newest(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((n) => newest(join(path, n))));
}

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('node', [CLI, 'synth', ...args], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  let built = 0;
  try {
    built = statSync('dist/src/cli/synth.js').mtimeMs;
  } catch {
    built = 0;
  }
  if (built < newest('src')) execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
}, 120_000);

describe('sightline synth', () => {
  it('renders an mp4 of the right duration and size, with truth files', () => {
    const out = join(dir, 'match.mp4');
    const truth = join(dir, 'truth.json');
    const captions = join(dir, 'clips.jsonl');
    const events = join(dir, 'events.jsonl');
    const r = cli(['--seed', '5', '--seconds', '3', '--out', out, '--width', '160', '--height', '90', '--fps', '10', '--truth', truth, '--events', events, '--captions', captions, '--clip-seconds', '2']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const probe = JSON.parse(execFileSync(ffprobePath(), ['-v', 'error', '-select_streams', 'v:0', '-count_frames', '-show_entries', 'stream=width,height,nb_read_frames,codec_name,pix_fmt:format=duration', '-of', 'json', out], { encoding: 'utf8' }));
    expect(probe.streams[0]).toMatchObject({ width: 160, height: 90, nb_read_frames: '30', codec_name: 'h264', pix_fmt: 'yuv420p' });
    expect(Number(probe.format.duration)).toBeCloseTo(3, 1);
    const transcript = JSON.parse(readFileSync(truth, 'utf8'));
    expect(transcript.video).toBe('match.mp4');
    expect(transcript.content.map((row: unknown[]) => row.slice(0, 2))).toEqual([[0, 1], [1, 2], [2, 3]]);
    expect(readFileSync(captions, 'utf8').trim().split('\n').map((l) => JSON.parse(l).end)).toEqual([2, 3]);
    expect(JSON.parse(readFileSync(events, 'utf8').split('\n')[0]).type).toBe('kickoff');
  });

  it('writes raw RGB24 frames without ffmpeg, identical to the API frames', () => {
    const out = join(dir, 'frames.rgb');
    const r = cli(['--seed', '8', '--seconds', '1', '--out', out, '--width', '64', '--height', '36', '--fps', '5']);
    expect(r.status).toBe(0);
    const bytes = readFileSync(out);
    expect(bytes.length).toBe(5 * 64 * 36 * 3);
    const copies: Buffer[] = [];
    for (const f of frames(8, { widthPx: 64, heightPx: 36, fps: 5, seconds: 1 })) copies.push(Buffer.from(f.rgb)); // rgb is reused
    const api = Buffer.concat(copies);
    expect(bytes.equals(api)).toBe(true);
  });

  it('renders world version 2 with per-second memory facts (--world-version 2 --facts)', () => {
    const out = join(dir, 'w2.rgb');
    const facts = join(dir, 'facts.jsonl');
    const truth = join(dir, 'w2-truth.json');
    const r = cli(['--seed', '6', '--seconds', '120', '--out', out, '--width', '32', '--height', '18', '--fps', '1', '--world-version', '2', '--facts', facts, '--truth', truth]);
    expect(r.status).toBe(0);
    const rows = readFileSync(facts, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.map((f) => f.second)).toEqual(Array.from({ length: 120 }, (_, i) => i));
    expect(rows[119]).toMatchObject({ score: expect.any(Array), shots: expect.any(Array), scoreboard: expect.any(Boolean) });
    expect(rows.some((f) => f.lastGoal !== null)).toBe(true);
    const lines = JSON.parse(readFileSync(truth, 'utf8')).content.map((row: unknown[]) => row[2]);
    expect(lines.some((t: string) => / of the match\.$/.test(t))).toBe(true);
  });

  it('writes version-2 captions with --caption-version 2: those of the API, whatever the frame size; default version 1', () => {
    const run = (name: string, extra: string[]): { video: string; start: number; end: number; caption: string }[] => {
      const captions = join(dir, `${name}.jsonl`);
      const r = cli(['--seed', '4', '--seconds', '120', '--out', join(dir, `${name}.rgb`), '--width', '16', '--height', '16', '--fps', '1', '--captions', captions, ...extra]);
      expect(r.status).toBe(0);
      return readFileSync(captions, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    };
    const two = run('cap2', ['--caption-version', '2']);
    const api = simulateTruth(4, 120, { video: 'cap2.rgb', captionVersion: 2 }).captions;
    expect(two).toEqual(api);
    expect(two[0].caption).toMatch(/ minute of the first half: \w+ (on|keep) the ball (in|at) /);
    // The default stays version 1, and frame size and rate do not change the truth (train/retrieval/captions.py relies on it).
    const one = run('cap1', []);
    expect(one.map((c) => c.caption)).toEqual(simulateTruth(4, 120, { captionVersion: 1 }).captions.map((c) => c.caption));
    expect(one.map((c) => [c.start, c.end])).toEqual(two.map((c) => [c.start, c.end]));
    expect(one[0].caption).not.toBe(two[0].caption);
  });

  it.each([
    [['--seconds', '1', '--caption-version', '4', '--out', 'x.mp4'], /--caption-version.*expected a caption version of 1, 2 or 3, got "4"/],
    [['--seconds', '1', '--world-version', '3', '--out', 'x.mp4'], /--world-version.*expected a world version of 1 or 2, got "3"/],
    [['--seconds', '2'], /needs --out <file> or --live/],
    [['--seconds', '-5', '--out', 'x.mp4'], /seconds/],
    [['--seconds', '1', '--out', '/nonexistent-dir/x.mp4'], /cannot write output \/nonexistent-dir\/x.mp4/],
    [['--seconds', '1', '--out', join(dir, 'a.mp4'), '--truth', '/nonexistent-dir/t.json'], /cannot write transcript/],
    [['--seconds', '1', '--width', '641', '--out', 'x.mp4'], /even number/],
    [['--seconds', '1', '--start-score', '11:9', '--out', 'x.mp4'], /--start-score.*expected two scores of 0-99 like 11-9, got "11:9"/],
    [['--seconds', '1', '--live', 'nosuchproto://x', '--width', '64', '--height', '36'], /ffmpeg failed writing nosuchproto:\/\/x/],
  ])('rejects bad input %j with one clear line', (args, message) => {
    const r = cli(args);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n').filter((l) => !l.startsWith('(run with')).length).toBe(1);
  });
});

/**
 * Starts the CLI streaming to a loopback UDP port and counts the packets that arrive. `killAfterMs` counts
 * from the first packet, so a slow start on a loaded machine does not cut the stream before it began.
 * (Pacing itself is tested on a simulated clock in live.test.ts; here: the process, the wire, the exit.)
 */
async function liveRun(extra: string[], killAfterMs?: number): Promise<{ code: number | null; packets: number; stderr: string; port: number }> {
  const sock = createSocket('udp4');
  let packets = 0;
  let onFirstPacket = (): void => undefined;
  sock.on('message', () => {
    if (packets++ === 0) onFirstPacket();
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const port = sock.address().port;
  const child = spawn(process.execPath, [CLI, 'synth', '--seed', '3', '--live', `udp://127.0.0.1:${port}`, '--width', '160', '--height', '90', ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  if (killAfterMs) onFirstPacket = () => void setTimeout(() => child.kill('SIGTERM'), killAfterMs);
  const code = await new Promise<number | null>((r) => child.once('close', (c) => r(c)));
  await new Promise((r) => setTimeout(r, 200));
  sock.close();
  return { code, packets, stderr, port };
}

function ffmpegFor(port: number): string {
  return spawnSync('pgrep', ['-af', `udp://127.0.0.1:${port}`], { encoding: 'utf8' }).stdout.trim();
}

describe('sightline synth --live', () => {
  it('sends mpegts over udp and stops at --seconds', async () => {
    const { code, packets, stderr, port } = await liveRun(['--seconds', '3']);
    expect(code).toBe(0);
    expect(packets).toBeGreaterThan(20);
    expect(stderr).toBe(`synth: streamed 3 s to udp://127.0.0.1:${port}\n`);
    expect(ffmpegFor(port)).toBe('');
  });

  it('runs until SIGTERM, then exits cleanly and takes ffmpeg with it', async () => {
    const truth = join(dir, 'live-truth.json');
    const { code, packets, stderr, port } = await liveRun(['--truth', truth], 2500);
    expect(code).toBe(0);
    // Stopped by the signal after whole seconds, which the transcript holds: valid JSON, whole seconds only.
    const streamed = Number(/^synth: streamed (\d+) s to udp:/.exec(stderr)?.[1]);
    expect(streamed).toBeGreaterThanOrEqual(1);
    const transcript = JSON.parse(readFileSync(truth, 'utf8'));
    expect(transcript.content.length).toBe(streamed);
    expect(transcript.content[0][2]).toMatch(/kick|under way|restart|tap it off/i);
    expect(packets).toBeGreaterThan(10);
    expect(ffmpegFor(port)).toBe('');
  });
});
