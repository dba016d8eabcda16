/**
 * `npm start` end to end: `sightline serve --demo` with the shipped model. A synthetic match goes live over
 * UDP, through ingest and the engine, to WebSocket viewers and the live page in a real Chromium.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

const CHROMIUM = process.env.SIGHTLINE_CHROMIUM ?? '/usr/bin/chromium';
let serve: ChildProcess | undefined;

afterAll(async () => {
  if (serve && serve.exitCode === null) {
    serve.kill('SIGKILL');
    await new Promise((r) => serve!.once('exit', r));
  }
});

/** Starts the demo and resolves with the page URL it prints. */
async function startDemo(): Promise<{ pageUrl: string; base: string; id: string }> {
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'sightline-demo-'));
  serve = spawn(process.execPath, ['dist/src/cli.js', 'serve', '--demo', '--port', '0', '--data', data, '--workers', '1'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, SIGHTLINE_LOG_LEVEL: 'warn' },
  });
  let out = '';
  return new Promise((resolve, reject) => {
    serve!.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /watch it at (http:\/\/[^\s]+\/#\/stream\/([a-z0-9_]+))/.exec(out);
      if (m) resolve({ pageUrl: m[1], base: new URL(m[1]).origin, id: m[2] });
    });
    serve!.once('exit', (code) => reject(new Error(`serve --demo exited (${code}) before printing its URL: ${out}`)));
  });
}

describe('serve --demo (npm start)', () => {
  it('streams commentary of the live synthetic match to viewers and the page, then shuts down cleanly', async () => {
    const { pageUrl, base, id } = await startDemo();

    const ws = new WebSocket(`${base.replace('http', 'ws')}/v1/streams/${id}/ws`);
    const lines: Array<{ start: number; end: number; text: string }> = [];
    await new Promise<void>((resolve, reject) => {
      ws.on('message', (raw) => {
        const msg = JSON.parse(raw.toString());
        if (msg.type === 'commentary') lines.push(msg);
        if (lines.length >= 4) resolve();
      });
      ws.on('error', reject);
    });
    ws.close();
    // One message per second of stream time, in order, each a line or the silence convention.
    for (let i = 1; i < lines.length; i++) expect(lines[i].start).toBe(lines[i - 1].start + 1);
    for (const l of lines) expect(l.end - l.start).toBe(1);

    expect(fs.existsSync(CHROMIUM), `chromium not found at ${CHROMIUM} (apt-get install chromium)`).toBe(true);
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      await page.goto(pageUrl);
      // The picture advances (frames over the video WebSocket, stamped with stream time)...
      const pts = () => Number(document.querySelector<HTMLImageElement>('#frame')!.dataset.pts);
      await page.waitForFunction(() => Number(document.querySelector<HTMLImageElement>('#frame')!.dataset.pts) >= 0, undefined, { timeout: 30_000 });
      const firstPts = await page.evaluate(pts);
      await page.waitForFunction((first) => Number(document.querySelector<HTMLImageElement>('#frame')!.dataset.pts) > first, firstPts, { timeout: 30_000 });
      const image = await page.$eval('#frame', (img: HTMLImageElement) => img.naturalWidth);
      expect(image).toBeGreaterThan(0);
      // ...and commentary lines accumulate in the timeline as the match plays.
      await page.waitForFunction(() => document.querySelectorAll('#timeline li').length >= 3, undefined, { timeout: 30_000 });
      fs.mkdirSync('test-artifacts', { recursive: true });
      await page.screenshot({ path: 'test-artifacts/demo-live-page.png' });
    } finally {
      await browser.close();
    }

    serve!.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => serve!.once('exit', r));
    expect(code).toBe(0);
  }, 90_000);
});
