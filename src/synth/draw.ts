/**
 * Drawing primitives on a packed RGB24 frame (3 bytes per pixel, rows top to bottom). Everything is a
 * span fill: shapes compute their x extent per row, then write bytes in a plain integer loop.
 */
export interface Canvas {
  data: Uint8Array;
  widthPx: number;
  heightPx: number;
}

function span(c: Canvas, y: number, x0: number, x1: number, r: number, g: number, b: number): void {
  if (y < 0 || y >= c.heightPx) return;
  const lo = Math.max(0, x0);
  const hi = Math.min(c.widthPx, x1);
  const d = c.data;
  for (let o = (y * c.widthPx + lo) * 3, end = (y * c.widthPx + hi) * 3; o < end; o += 3) {
    d[o] = r;
    d[o + 1] = g;
    d[o + 2] = b;
  }
}

/** Multiplies a span by f/256 (shadows) or blends it towards a colour (alpha/256). */
function blendSpan(c: Canvas, y: number, x0: number, x1: number, r: number, g: number, b: number, alpha: number): void {
  if (y < 0 || y >= c.heightPx) return;
  const lo = Math.max(0, x0);
  const hi = Math.min(c.widthPx, x1);
  const d = c.data;
  const keep = 256 - alpha;
  for (let o = (y * c.widthPx + lo) * 3, end = (y * c.widthPx + hi) * 3; o < end; o += 3) {
    d[o] = (d[o] * keep + r * alpha) >> 8;
    d[o + 1] = (d[o + 1] * keep + g * alpha) >> 8;
    d[o + 2] = (d[o + 2] * keep + b * alpha) >> 8;
  }
}

export function fillRect(c: Canvas, x: number, y: number, w: number, h: number, rgb: readonly number[]): void {
  const x0 = Math.round(x);
  const x1 = Math.round(x + w);
  for (let row = Math.max(0, Math.round(y)), end = Math.min(c.heightPx, Math.round(y + h)); row < end; row++) {
    span(c, row, x0, x1, rgb[0], rgb[1], rgb[2]);
  }
}

export function blendRect(c: Canvas, x: number, y: number, w: number, h: number, rgb: readonly number[], alpha: number): void {
  const x0 = Math.round(x);
  const x1 = Math.round(x + w);
  for (let row = Math.max(0, Math.round(y)), end = Math.min(c.heightPx, Math.round(y + h)); row < end; row++) {
    blendSpan(c, row, x0, x1, rgb[0], rgb[1], rgb[2], alpha);
  }
}

/** Filled axis-aligned ellipse; alpha < 256 blends (used for shadows). */
export function fillEllipse(c: Canvas, cx: number, cy: number, rx: number, ry: number, rgb: readonly number[], alpha = 256): void {
  if (rx <= 0 || ry <= 0) return;
  const y0 = Math.max(0, Math.floor(cy - ry));
  const y1 = Math.min(c.heightPx - 1, Math.ceil(cy + ry));
  for (let y = y0; y <= y1; y++) {
    const dy = (y + 0.5 - cy) / ry;
    if (dy <= -1 || dy >= 1) continue;
    const half = rx * Math.sqrt(1 - dy * dy);
    const x0 = Math.round(cx - half);
    const x1 = Math.round(cx + half);
    if (x1 <= x0) continue;
    if (alpha >= 256) span(c, y, x0, x1, rgb[0], rgb[1], rgb[2]);
    else blendSpan(c, y, x0, x1, rgb[0], rgb[1], rgb[2], alpha);
  }
}

/** Ellipse outline of thickness `t` px (centre circle). */
export function strokeEllipse(c: Canvas, cx: number, cy: number, rx: number, ry: number, t: number, rgb: readonly number[]): void {
  const y0 = Math.max(0, Math.floor(cy - ry));
  const y1 = Math.min(c.heightPx - 1, Math.ceil(cy + ry));
  const irx = rx - t;
  const iry = ry - t;
  for (let y = y0; y <= y1; y++) {
    const dy = (y + 0.5 - cy) / ry;
    if (dy <= -1 || dy >= 1) continue;
    const outer = rx * Math.sqrt(1 - dy * dy);
    const idy = iry > 0 ? (y + 0.5 - cy) / iry : 2;
    const inner = idy > -1 && idy < 1 ? irx * Math.sqrt(1 - idy * idy) : 0;
    span(c, y, Math.round(cx - outer), Math.round(cx - inner), rgb[0], rgb[1], rgb[2]);
    span(c, y, Math.round(cx + inner), Math.round(cx + outer), rgb[0], rgb[1], rgb[2]);
  }
}
