/**
 * kill -9 of `sightline index` at two points (mid-decode of a video; right after a video's clip rows
 * were committed), then a resumed run: the index stays readable throughout, and ends complete and
 * consistent (every video once, every clip once, nothing pending).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SearchStore, clipsTableName } from '../../src/search/store.js';
import { CLI, cli, ensureBuilt, jsonLines, synthMatch } from './helpers.js';

const MODEL = 'sightline-retrieval-v1';
const dir = mkdtempSync(join(tmpdir(), 'sightline-crash-'));
const db = join(dir, 'db');
const MARK = `SIGHTLINE_CRASH_TEST_${randomUUID().replace(/-/g, '')}`;
let videos: string[];

/** ffmpeg/ffprobe children of a killed indexer (found by an env mark they inherited). */
function orphans(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      if ((comm === 'ffmpeg' || comm === 'ffprobe') && readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').includes(`${MARK}=1`)) pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

/** Starts the indexer and SIGKILLs it as soon as an event matching `when` is printed. */
async function indexAndKill(when: (e: any) => boolean): Promise<any[]> {
  const child = spawn('node', [CLI, 'index', ...videos, '--db', db, '--json'], { env: { ...process.env, [MARK]: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const seen: any[] = [];
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
  for await (const line of createInterface({ input: child.stdout! })) {
    const e = JSON.parse(line);
    seen.push(e);
    if (when(e)) {
      child.kill('SIGKILL');
      break;
    }
  }
  expect(await exited).toBe('SIGKILL');
  // Its ffmpeg lost its reader and exits on the broken pipe; make sure none outlives the test.
  for (let i = 0; i < 50 && orphans().length > 0; i++) await new Promise((r) => setTimeout(r, 100));
  for (const pid of orphans()) process.kill(pid, 'SIGKILL');
  return seen;
}

async function snapshot(): Promise<{ clips: { video: string; start: number }[]; videos: { path: string; clips: number }[]; pending: string[]; searchable: string[] }> {
  const store = await SearchStore.open(db);
  try {
    const t = await store.table(clipsTableName(MODEL));
    const clips = t ? (await t.query().select(['video', 'start']).toArray()).map((r) => ({ video: r.video as string, start: r.start as number })) : [];
    const probe = new Float32Array(256).fill(1 / 16);
    const searchable = [...new Set((await store.searchClips(MODEL, probe, 100)).map((h) => h.video))].sort();
    return { clips, videos: (await store.listVideos(MODEL)).map((v) => ({ path: v.path, clips: v.clips })), pending: await store.pendingPaths(MODEL), searchable };
  } finally {
    store.close();
  }
}

beforeAll(() => {
  ensureBuilt();
  videos = [300101, 300102, 300103].map((s) => synthMatch(s, 30).video);
}, 240_000);

afterAll(() => {
  for (const pid of orphans()) process.kill(pid, 'SIGKILL');
});

describe('sightline index killed with SIGKILL', () => {
  it('stays readable after each kill and resumes to a complete, consistent index', async () => {
    // Kill 1: while the second video is being decoded/encoded.
    const first = await indexAndKill((e) => e.type === 'start' && e.path === videos[1]);
    expect(first.some((e) => e.type === 'indexed' && e.path === videos[0])).toBe(true);
    let s = await snapshot();
    expect(s.videos.map((v) => v.path)).toEqual([videos[0]]);
    expect(s.searchable).toEqual([videos[0]]); // whatever of video 2 hit the disk is not searchable

    // Kill 2: right after the third video's clip rows were committed (before or just after its videos row).
    const second = await indexAndKill((e) => e.type === 'clips' && e.path === videos[2]);
    expect(second.find((e) => e.type === 'skipped')?.path).toBe(videos[0]);
    s = await snapshot();
    for (const v of s.searchable) expect(s.videos.map((x) => x.path)).toContain(v);

    // Resume: completes what is missing, rolls back what was half-written, redoes nothing finished.
    const r = cli(['index', ...videos, '--db', db, '--json']);
    expect(r.status, r.stderr).toBe(0);
    const events = jsonLines(r.stdout);
    expect(events.filter((e) => e.type === 'skipped').map((e) => e.path)).toContain(videos[0]);
    expect(events.filter((e) => e.type === 'indexed').map((e) => e.path)).not.toContain(videos[0]);
    s = await snapshot();
    expect(s.pending).toEqual([]);
    expect(s.videos.map((v) => v.path).sort()).toEqual([...videos].sort());
    for (const v of s.videos) expect(v.clips).toBe(3);
    expect(s.clips).toHaveLength(9);
    expect(new Set(s.clips.map((c) => `${c.video}@${c.start}`)).size).toBe(9);
    expect(s.searchable).toEqual([...videos].sort());
  }, 240_000); // three indexer runs; minutes on a loaded 2-core machine
});
