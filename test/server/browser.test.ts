/**
 * The live page in a real Chromium (Debian /usr/bin/chromium driven by playwright-core; .ci/run
 * installs it, and this test fails rather than skips without it).
 */
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { postJson, startServer } from './helpers.js';

const CHROMIUM = process.env.SIGHTLINE_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = path.resolve('test-artifacts');

let browser: Browser | undefined;
let server: Awaited<ReturnType<typeof startServer>> | undefined;
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('live page', () => {
  it('plays the preview, shows commentary in sync with the picture, and lists the stream', async () => {
    expect(fs.existsSync(CHROMIUM), `chromium not found at ${CHROMIUM} (apt-get install chromium)`).toBe(true);
    server = await startServer({}, { intervalMs: 1000, size: 96, text: (t) => `Second ${t}: the striker runs onto the ball` });
    const { id } = (await (await postJson(server.url, '/v1/streams', { source: 'match.mp4' })).json()) as { id: string };
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
    });
    const page = await browser.newPage({ viewport: { width: 1100, height: 700 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));

    await page.goto(`${server.url}/`);
    await page.waitForSelector(`#streams a[href$="#/stream/${id}"]`);
    await page.click(`#streams a[href$="#/stream/${id}"]`);

    // Record which frame was on screen when each commentary line appeared.
    await page.evaluate(() => {
      const w = window as unknown as { shownWith: { start: number; pts: number }[] };
      w.shownWith = [];
      new MutationObserver((records) => {
        for (const r of records)
          for (const node of r.addedNodes) {
            const li = node as HTMLElement;
            w.shownWith.push({ start: Number(li.dataset.start), pts: Number(document.querySelector<HTMLImageElement>('#frame')!.dataset.pts) });
          }
      }).observe(document.querySelector('#timeline')!, { childList: true });
    });

    const framePts = async () => Number(await page.getAttribute('#frame', 'data-pts'));
    await page.waitForFunction(() => Number(document.querySelector<HTMLImageElement>('#frame')!.dataset.pts) >= 0, undefined, { timeout: 20_000 });
    const firstPts = await framePts();
    // The picture advances, and live lines (those after the first frame) keep appearing.
    await page.waitForFunction(
      (first) => {
        const w = window as unknown as { shownWith: { start: number; pts: number }[] };
        const pts = Number(document.querySelector<HTMLImageElement>('#frame')!.dataset.pts);
        return pts >= first + 2 && w.shownWith.filter((s) => s.pts >= 0 && s.start >= first).length >= 2 && document.querySelectorAll('#timeline li').length >= 3;
      },
      firstPts,
      { timeout: 20_000 },
    );
    expect(await framePts()).toBeGreaterThan(firstPts);
    const image = await page.$eval('#frame', (img: HTMLImageElement) => ({ w: img.naturalWidth, h: img.naturalHeight }));
    expect(image).toEqual({ w: 96, h: 96 });

    const lines = await page.$$eval('#timeline li', (items) => items.map((li) => li.textContent ?? ''));
    expect(lines.length).toBeGreaterThanOrEqual(3);
    for (const line of lines) expect(line).toMatch(/^\d\d:\d\dSecond \d+: the striker runs onto the ball$/);
    expect(await page.textContent('#badge')).toBe('live');
    expect(await page.textContent('#caption')).toContain('Second');

    // In sync: a live line appears when the picture reaches its second, not before and not long after.
    const shown = (await page.evaluate(() => (window as unknown as { shownWith: { start: number; pts: number }[] }).shownWith)).filter((s) => s.pts >= 0 && s.start >= firstPts);
    expect(shown.length).toBeGreaterThanOrEqual(2);
    for (const s of shown) {
      expect(s.pts).toBeGreaterThanOrEqual(s.start - 0.5);
      expect(s.pts).toBeLessThan(s.start + 2);
    }

    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'live-page.png') });

    // The docs page renders /openapi.json with no CDN.
    await page.goto(`${server.url}/docs`);
    await page.waitForSelector('.op code');
    const paths = await page.$$eval('.op code', (els) => els.map((e) => e.textContent));
    expect(paths).toEqual(expect.arrayContaining(['/v1/streams', '/v1/streams/{id}/ws', '/v1/streams/{id}/events']));
    expect(await page.$$eval('details summary', (els) => els.map((e) => e.textContent))).toEqual(expect.arrayContaining(['ServerMessage', 'ClientMessage']));
    expect(pageErrors).toEqual([]);
  });
});
