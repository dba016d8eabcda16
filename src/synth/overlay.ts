import { blendRect, fillRect, type Canvas } from './draw.js';
import type { Rgb } from './teams.js';

// Seven-segment masks, bit order a b c d e f g.
const SEGMENTS = [0x7e, 0x30, 0x6d, 0x79, 0x33, 0x5b, 0x5f, 0x70, 0x7f, 0x7b];
const LIGHT = [245, 245, 245];
const PANEL = [15, 20, 30];

/** One seven-segment digit (or '-' / ':') with its top-left at (x, y); returns the advance in px. */
function glyph(c: Canvas, ch: string, x: number, y: number, w: number, h: number, t: number): number {
  if (ch === ':') {
    fillRect(c, x, y + h * 0.25, t, t, LIGHT);
    fillRect(c, x, y + h * 0.7, t, t, LIGHT);
    return t * 2;
  }
  const mask = ch === '-' ? 0x01 : SEGMENTS[ch.charCodeAt(0) - 48];
  const mid = Math.round(y + h / 2 - t / 2);
  const halfH = Math.ceil(h / 2);
  if (mask & 0x40) fillRect(c, x, y, w, t, LIGHT);
  if (mask & 0x20) fillRect(c, x + w - t, y, t, halfH, LIGHT);
  if (mask & 0x10) fillRect(c, x + w - t, y + h - halfH, t, halfH, LIGHT);
  if (mask & 0x08) fillRect(c, x, y + h - t, w, t, LIGHT);
  if (mask & 0x04) fillRect(c, x, y + h - halfH, t, halfH, LIGHT);
  if (mask & 0x02) fillRect(c, x, y, t, halfH, LIGHT);
  if (mask & 0x01) fillRect(c, x, mid, w, t, LIGHT);
  return w + t * 2;
}

/**
 * The broadcast scoreboard, top left: [kit A] 1-0 [kit B]  mm:ss, drawn with shapes only (no fonts),
 * scaled to the frame height so every output size shows it.
 */
export function drawScoreboard(c: Canvas, kits: readonly [Rgb, Rgb], score: readonly [number, number], clockSec: number): void {
  const h = Math.max(5, Math.round(c.heightPx * 0.05));
  const w = Math.max(3, Math.round(h * 0.55));
  const t = Math.max(1, Math.round(h * 0.15));
  const pad = Math.max(2, Math.round(h * 0.35));
  const x0 = Math.max(1, Math.round(c.widthPx * 0.02));
  const y0 = Math.max(1, Math.round(c.heightPx * 0.03));
  const mm = Math.floor(clockSec / 60);
  const ss = Math.floor(clockSec % 60);
  const clock = `${String(mm).padStart(2, '0')}:${String(ss).padStart(2, '0')}`;
  const scoreText = `${score[0]}-${score[1]}`;
  const advance = (s: string): number => [...s].reduce((n, ch) => n + (ch === ':' ? t * 2 : w + t * 2), 0);
  const swatch = h;
  const totalW = pad + swatch + pad + advance(scoreText) + pad + swatch + pad * 3 + advance(clock) + pad;
  blendRect(c, x0, y0, totalW, h + pad * 2, PANEL, 200);
  let x = x0 + pad;
  const y = y0 + pad;
  fillRect(c, x, y, swatch, h, LIGHT);
  fillRect(c, x + 1, y + 1, swatch - 2, h - 2, kits[0]);
  x += swatch + pad;
  for (const ch of scoreText) x += glyph(c, ch, x, y, w, h, t);
  x += pad - t;
  fillRect(c, x, y, swatch, h, LIGHT);
  fillRect(c, x + 1, y + 1, swatch - 2, h - 2, kits[1]);
  x += swatch + pad * 3;
  for (const ch of clock) x += glyph(c, ch, x, y, w, h, t);
}
