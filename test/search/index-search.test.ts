/**
 * `sightline index` + `sightline search` end to end on held-out synthetic matches with the shipped
 * Prompt-Switch model: captions find their clips, re-indexing is a no-op, bad files are reported and
 * skipped while the rest completes, (the approximate index: store.test.ts).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EncoderClient } from '../../src/model/index.js';
import { parseQuery, runSearch } from '../../src/search/query.js';
import { SearchStore, clipsTableName } from '../../src/search/store.js';
import { RETRIEVAL_MODEL, badFiles, cli, ensureBuilt, jsonLines, synthMatch, type Caption } from './helpers.js';

const SEEDS = [300101, 300102, 300103];
const SECONDS = 30;
const dir = mkdtempSync(join(tmpdir(), 'sightline-search-'));
const db = join(dir, 'db');
let matches: { video: string; captions: Caption[] }[];
let store: SearchStore;
let encoder: EncoderClient;
let firstRun: any[];

beforeAll(async () => {
  ensureBuilt();
  matches = SEEDS.map((s) => synthMatch(s, SECONDS));
  const bad = badFiles(dir, matches[0].video);
  const r = cli(['index', ...matches.map((m) => m.video), bad.notVideo, bad.truncated, join(dir, 'missing.mp4'), '--db', db, '--json']);
  firstRun = jsonLines(r.stdout);
  expect(r.status, r.stderr).toBe(1); // some inputs failed; the rest was indexed
  store = await SearchStore.open(db);
  encoder = await EncoderClient.create(RETRIEVAL_MODEL);
}, 240_000);

afterAll(async () => {
  await encoder?.close();
  store?.close();
});

const top = async (q: string, k = 5) => (await runSearch(store, encoder, undefined, parseQuery({ q, k }))).results;

// Each test spawns the CLI (model load, decode): generous limits for a loaded 2-core machine.
describe('sightline index', { timeout: 180_000 }, () => {
  it('indexes every good video into 10 s clips and reports each bad input with a reason', () => {
    const indexed = firstRun.filter((e) => e.type === 'indexed');
    expect(indexed.map((e) => e.path).sort()).toEqual(matches.map((m) => m.video).sort());
    for (const e of indexed) expect(e.clips).toBe(SECONDS / 10);
    const failed = Object.fromEntries(firstRun.filter((e) => e.type === 'failed').map((e) => [e.path.split('/').pop(), e]));
    expect(failed['notes.mp4'].code).toBe('source_not_video');
    expect(failed['notes.mp4'].reason).toMatch(/notes\.mp4: not a readable video/);
    expect(failed['truncated.mp4'].code).toMatch(/source_(corrupt|not_video)/);
    expect(failed['missing.mp4'].reason).toMatch(/does not exist/);
    const summary = firstRun.at(-1);
    expect(summary).toMatchObject({ type: 'summary', indexed: 3, failed: 3, clipsTotal: 9, annIndex: 'none' });
  });

  it('stores vector, path, start/end, JPEG thumbnail, model and content hash per clip', async () => {
    const t = (await store.table(clipsTableName('sightline-retrieval-v1')))!;
    const rows = await t.query().toArray();
    expect(rows).toHaveLength(9);
    for (const r of rows) {
      expect(r.vector.length).toBe(256);
      expect(r.end - r.start).toBeCloseTo(10, 6);
      expect(r.model).toBe('sightline-retrieval-v1');
      expect(r.hash).toMatch(/^[0-9a-f]{64}$/);
      expect([...r.thumbnail.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]); // JPEG magic
    }
    expect(await store.pendingPaths('sightline-retrieval-v1')).toEqual([]);
  });

  /**
   * Every clip of a 30 s video lies in the same match minute, so its captions share teams, score, minute
   * and half and differ only in events, where the play was and possession: exactly the model's hard case
   * (docs/retrieval-model.md: R@1 55%, R@5 97% on 1,000 held-out clips; misses rank the true clip 2nd-5th
   * among clips of the same minute). So for all 9 captions we require the right video first and the right
   * clip in the top 3 (its match's clips), and the right clip first for the 4 clips whose events set
   * them apart (a goal, a shot and save at the right end, ...): their margin over the runner-up was
   * 0.17-0.42 cosine when this test was written; the other 5 were within 0.08 of it either way
   * (3 of them ranked 2nd).
   */
  const DISTINCTIVE: [number, number][] = [
    [300101, 20], // dribble, shot, keeper saves; play at the right end
    [300102, 0], // the goal (Blue 0-1 Black)
    [300102, 10], // kick-off after the goal; play at the left end
    [300102, 20], // tackles, dribbles, interceptions
  ];

  it('finds clips by their captions: right video first, right clip in the top 3, distinctive clips first', async () => {
    expect(new Set(matches.flatMap((m) => m.captions.map((c) => c.caption))).size).toBe(9);
    for (const [i, m] of matches.entries()) {
      for (const c of m.captions) {
        const results = await top(c.caption, 9);
        expect(results[0].video, c.caption).toBe(m.video);
        const rank = results.findIndex((r) => r.video === m.video && r.start === c.start);
        expect(rank, c.caption).toBeGreaterThanOrEqual(0);
        expect(rank, c.caption).toBeLessThan(3);
        if (DISTINCTIVE.some(([seed, start]) => seed === SEEDS[i] && start === c.start)) expect(rank, c.caption).toBe(0);
      }
    }
  });

  it('scores are cosine similarities, best first', async () => {
    const results = await top(matches[1].captions[0].caption, 9);
    expect(results).toHaveLength(9);
    for (let i = 1; i < results.length; i++) expect(results[i - 1].score).toBeGreaterThanOrEqual(results[i].score);
    for (const r of results) expect(Math.abs(r.score)).toBeLessThanOrEqual(1 + 1e-5);
    expect(results[0].thumbnail).toMatch(/^data:image\/jpeg;base64,\/9j\//);
  });

  it('sightline search prints the best clips (text and --json)', () => {
    const caption = matches[2].captions[1].caption;
    const text = cli(['search', caption, '--db', db, '--k', '2']);
    expect(text.status, text.stderr).toBe(0);
    const lines = text.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(new RegExp(`^\\d\\.\\d{3}  0:10\\.0-0:20\\.0  ${matches[2].video}$`));
    const json = JSON.parse(cli(['search', caption, '--db', db, '--k', '1', '--json']).stdout);
    expect(json.results[0]).toMatchObject({ kind: 'clip', video: matches[2].video, start: 10, end: 20 });
  });

  it('sightline search rejects an empty or overlong query with one line', () => {
    const empty = cli(['search', '   ', '--db', db]);
    expect(empty.status).toBe(1);
    expect(empty.stderr.trim()).toBe('sightline: q: query is empty');
    const long = cli(['search', 'x'.repeat(501), '--db', db]);
    expect(long.status).toBe(1);
    expect(long.stderr).toMatch(/longer than 500 characters/);
  });

  it('--clip-seconds changes the clip length (frames stay at the centres of 8 equal parts)', async () => {
    const other = join(dir, 'db-15s');
    const r = cli(['index', matches[1].video, '--db', other, '--clip-seconds', '15', '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(jsonLines(r.stdout).find((e) => e.type === 'indexed')).toMatchObject({ clips: 2, durationSec: SECONDS });
    const s15 = await SearchStore.open(other);
    try {
      const rows = await (await s15.table(clipsTableName('sightline-retrieval-v1')))!.query().toArray();
      expect(rows.map((x) => [x.start, x.end]).sort((a, b) => a[0] - b[0])).toEqual([[0, 15], [15, 30]]);
    } finally {
      s15.close();
    }
  });

  it('re-indexing the same files is a no-op (nothing decoded, nothing written)', async () => {
    const t = (await store.table(clipsTableName('sightline-retrieval-v1')))!;
    const versionBefore = await t.version();
    const r = cli(['index', ...matches.map((m) => m.video), '--db', db, '--json']);
    expect(r.status, r.stderr).toBe(0);
    const events = jsonLines(r.stdout);
    expect(events.filter((e) => e.type === 'skipped').map((e) => e.path).sort()).toEqual(matches.map((m) => m.video).sort());
    expect(events.filter((e) => e.type === 'start' || e.type === 'indexed')).toEqual([]);
    await t.checkoutLatest();
    expect(await t.version()).toBe(versionBefore);
    expect(await t.countRows()).toBe(9);
  });
});
