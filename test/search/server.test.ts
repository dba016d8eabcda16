/**
 * Search over HTTP: GET /v1/search validates its input and returns clips with thumbnails and a
 * playable URL; POST /v1/videos indexes files only from the allowed roots; /v1/videos/file serves
 * them with Range; commentary of a running stream becomes searchable within seconds, marked live.
 */
import { copyFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SearchService } from '../../src/search/service.js';
import { MAX_QUERY_CHARS } from '../../src/search/query.js';
import { postJson, startServer, tempDir } from '../server/helpers.js';
import { RETRIEVAL_MODEL, ensureBuilt, synthMatch, type Caption } from './helpers.js';

let server: Awaited<ReturnType<typeof startServer>>;
let video: string;
let captions: Caption[];
const GOAL_LINE = 'Black number 7 scores a wonderful goal from the edge of the box';

beforeAll(async () => {
  ensureBuilt();
  const match = synthMatch(300102, 30);
  captions = match.captions;
  const search = await SearchService.create({ dbPath: path.join(tempDir('sightline-search-db-'), 'db'), modelDir: RETRIEVAL_MODEL, liveFlushMs: 200 });
  server = await startServer({ search }, { intervalMs: 100, text: (t) => (t === 5 ? GOAL_LINE : t % 2 === 0 ? ' ...' : `Blue pass in midfield at ${t}`) });
  video = path.join(server.roots, 'match.mp4');
  copyFileSync(match.video, video);
  writeFileSync(path.join(server.roots, 'notes.mp4'), 'not a video');
}, 240_000);

afterAll(async () => {
  await server?.close();
});

const get = (route: string) => fetch(server.url + route);

describe('POST /v1/videos', () => {
  it('indexes a video from an allowed root; a second call is a no-op', async () => {
    const first = await postJson(server.url, '/v1/videos', { path: 'match.mp4' });
    expect(first.status).toBe(201);
    const body = await first.json();
    expect(body).toMatchObject({ video: video, indexed: true, clips: 3, durationSec: 30 });
    const again = await postJson(server.url, '/v1/videos', { path: video });
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ indexed: false, skipped: 'already indexed' });
  });

  it('refuses paths outside the roots, URLs, non-videos and malformed bodies with one clear error', async () => {
    const cases: [unknown, number, RegExp][] = [
      [{ path: '/etc/passwd' }, 403, /outside the allowed file roots/],
      [{ path: '../../../etc/passwd' }, 403, /outside the allowed file roots/],
      [{ path: 'http://example.com/a.mp4' }, 400, /only files under the server's file roots/],
      [{ path: 'missing.mp4' }, 400, /does not exist/],
      [{ path: 'notes.mp4' }, 400, /notes\.mp4: not a readable video/],
      [{ path: '' }, 400, /path/],
      [{ path: 'match.mp4', extra: 1 }, 400, /extra|Unrecognized/i],
      ['{not json', 400, /malformed JSON/],
    ];
    for (const [body, status, message] of cases) {
      const r = await postJson(server.url, '/v1/videos', body);
      const json = await r.json();
      expect(r.status, JSON.stringify(body)).toBe(status);
      expect(json.error.message, JSON.stringify(body)).toMatch(message);
    }
  });
});

describe('GET /v1/search', () => {
  it('returns clips {video, start, end, score, thumbnail} with a playback URL, best first', async () => {
    const goal = captions[0]; // the clip with the goal
    const r = await get(`/v1/search?q=${encodeURIComponent(goal.caption)}&k=2`);
    expect(r.status).toBe(200);
    const body = await r.json();
    expect(body.results).toHaveLength(2);
    expect(body.results[0]).toMatchObject({ kind: 'clip', video, start: 0, end: 10 });
    expect(body.results[0].score).toBeGreaterThan(body.results[1].score);
    expect(body.results[0].thumbnail).toMatch(/^data:image\/jpeg;base64,/);
    expect(body.results[0].url).toBe(`/v1/videos/file?path=${encodeURIComponent(video)}`);
  });

  it('rejects empty, missing, overlong and malformed queries with 400 and a clear message', async () => {
    const cases: [string, RegExp][] = [
      ['/v1/search', /q: query is missing/],
      ['/v1/search?q=', /q: query is empty/],
      ['/v1/search?q=%20%20', /q: query is empty/],
      [`/v1/search?q=${'a'.repeat(MAX_QUERY_CHARS + 1)}`, /longer than 500 characters/],
      ['/v1/search?q=goal%00x', /control characters/],
      ['/v1/search?q=goal&k=0', /^k: /],
      ['/v1/search?q=goal&k=abc', /^k: /],
      ['/v1/search?q=goal&k=101', /^k: /],
      ['/v1/search?q=goal&k=2.5', /^k: /],
    ];
    for (const [route, message] of cases) {
      const r = await get(route);
      expect(r.status, route).toBe(400);
      const body = await r.json();
      expect(body.error.code).toBe('bad_input');
      expect(body.error.message, route).toMatch(message);
    }
  });

  it('is in /openapi.json with its zod schemas', async () => {
    const doc = await (await get('/openapi.json')).json();
    expect(doc.paths['/v1/search'].get.parameters.map((p: { name: string }) => p.name)).toEqual(['q', 'k', 'token']);
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(['SearchResponse', 'IndexVideoBody', 'IndexedVideo']));
    expect(doc.components.schemas.SearchResponse.properties.results.items.required).toEqual(expect.arrayContaining(['video', 'start', 'end', 'score', 'thumbnail']));
  });

  it('finds commentary of a running stream within seconds, marked as a live segment', async () => {
    const created = await postJson(server.url, '/v1/streams', { source: 'match.mp4' });
    const { id } = await created.json();
    const deadline = Date.now() + 10_000;
    let live: any[] = [];
    while (Date.now() < deadline) {
      live = (await (await get('/v1/search?q=wonderful%20goal&k=3')).json()).live;
      if (live.length > 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(live[0]).toMatchObject({ kind: 'live', stream: id, text: GOAL_LINE, start: 5, end: 6 });
    // Silence (" ...") is never stored.
    const silence = (await (await get('/v1/search?q=...&k=3')).json()).live;
    expect(silence).toEqual([]);
    await fetch(`${server.url}/v1/streams/${id}`, { method: 'DELETE' });
  });
});

describe('GET /v1/videos/file', () => {
  it('serves an indexed video with Range support, and nothing outside the roots', async () => {
    const url = `/v1/videos/file?path=${encodeURIComponent(video)}`;
    const whole = await get(url);
    expect(whole.status).toBe(200);
    expect(whole.headers.get('accept-ranges')).toBe('bytes');
    expect(whole.headers.get('content-type')).toBe('video/mp4');
    const size = (await whole.arrayBuffer()).byteLength;
    const part = await fetch(server.url + url, { headers: { Range: 'bytes=100-199' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 100-199/${size}`);
    expect((await part.arrayBuffer()).byteLength).toBe(100);
    const tail = await fetch(server.url + url, { headers: { Range: 'bytes=-10' } });
    expect(tail.headers.get('content-range')).toBe(`bytes ${size - 10}-${size - 1}/${size}`);
    const beyond = await fetch(server.url + url, { headers: { Range: `bytes=${size}-` } });
    expect(beyond.status).toBe(416);
    const outside = await get('/v1/videos/file?path=%2Fetc%2Fpasswd');
    expect(outside.status).toBe(403);
  });
});

describe('search page', { timeout: 120_000 }, () => {
  it('shows results with thumbnails; clicking one plays the video from the clip start', async () => {
    const { chromium } = await import('playwright-core');
    const executablePath = process.env.SIGHTLINE_CHROMIUM ?? '/usr/bin/chromium';
    const browser = await chromium.launch({ executablePath, headless: true, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--autoplay-policy=no-user-gesture-required'] });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (err) => errors.push(err.message));
      await page.goto(`${server.url}/#/search?q=${encodeURIComponent(captions[2].caption)}&k=3`);
      await page.waitForSelector('#search-results li button.result img');
      expect(await page.locator('#search-results li').count()).toBe(3);
      expect(await page.getAttribute('#search-results li:first-child img', 'src')).toMatch(/^data:image\/jpeg;base64,/);
      // Where the click seeks to (the position while seeking), not where playback has got to since.
      await page.evaluate(() => {
        const v = document.querySelector<HTMLVideoElement>('#search-video')!;
        v.addEventListener('seeking', () => ((window as unknown as { seekedTo?: number }).seekedTo ??= v.currentTime));
      });
      await page.click('#search-results li:first-child button');
      const seekedTo = await (await page.waitForFunction(() => (window as unknown as { seekedTo?: number }).seekedTo, undefined, { timeout: 20_000 })).jsonValue();
      expect(seekedTo).toBe(captions[2].start);
      // An empty query is refused by the server with a clear message (the form itself needs text).
      await page.goto(`${server.url}/#/search?q=%20&k=3`);
      await page.waitForFunction(() => document.querySelector('#search-error')!.textContent!.includes('query is empty'));
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
