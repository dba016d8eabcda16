/**
 * Tiny SVG charts for the reports (no dependency: a line chart and a horizontal bar chart are a few dozen
 * lines, and the output is plain text that diffs well). Missing values (null / NaN) break a line.
 */
export interface LineSeries {
  name: string;
  points: readonly (readonly [number, number | null])[];
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly LineSeries[];
  /** Lower bound of the y axis (default 0). */
  yMin?: number;
  /** Vertical marker lines, e.g. the hour-1 / hour-2 split. */
  markers?: readonly { x: number; label: string }[];
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];
/** Dashes as well as colours, so a series drawn over an identical one stays visible. */
const DASHES = ['', '7 4', '2 3', '10 3 2 3', '4 4', '1 2'];
const W = 720;
const H = 360;
const PAD = { left: 70, right: 150, top: 36, bottom: 48 };

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Round tick step (1, 2 or 5 x 10^k) for about `n` ticks over `span`. */
export function niceStep(span: number, n = 5): number {
  if (!(span > 0)) return 1;
  const raw = span / n;
  const p = 10 ** Math.floor(Math.log10(raw));
  const f = raw / p;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}

const fmt = (v: number): string => (Math.abs(v) >= 1000 || Number.isInteger(v) ? String(Math.round(v)) : v.toPrecision(3).replace(/\.?0+$/, ''));

export function lineChart(o: LineChartOptions): string {
  const values = o.series.flatMap((s) => s.points).filter((p): p is readonly [number, number] => p[1] !== null && Number.isFinite(p[1]));
  const xs = values.map((p) => p[0]);
  const xMin = xs.length ? Math.min(...xs) : 0;
  const xMax = xs.length ? Math.max(...xs, xMin + 1) : 1;
  const yMin = o.yMin ?? 0;
  const yTop = values.length ? Math.max(...values.map((p) => p[1]), yMin + 1e-9) : 1;
  const yStep = niceStep(yTop - yMin);
  const yMax = Math.ceil(yTop / yStep) * yStep;
  const px = (x: number) => PAD.left + ((x - xMin) / (xMax - xMin)) * (W - PAD.left - PAD.right);
  const py = (y: number) => H - PAD.bottom - ((y - yMin) / (yMax - yMin || 1)) * (H - PAD.top - PAD.bottom);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${esc(o.title)}</text>`,
  ];
  for (let y = yMin; y <= yMax + 1e-9; y += yStep) {
    out.push(`<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${py(y).toFixed(1)}" y2="${py(y).toFixed(1)}" stroke="#ddd"/>`);
    out.push(`<text x="${PAD.left - 6}" y="${(py(y) + 4).toFixed(1)}" text-anchor="end">${fmt(y)}</text>`);
  }
  const xStep = niceStep(xMax - xMin, 8);
  for (let x = Math.ceil(xMin / xStep) * xStep; x <= xMax + 1e-9; x += xStep) {
    out.push(`<text x="${px(x).toFixed(1)}" y="${H - PAD.bottom + 16}" text-anchor="middle">${fmt(x)}</text>`);
  }
  out.push(`<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${H - PAD.bottom}" y2="${H - PAD.bottom}" stroke="black"/>`);
  out.push(`<line x1="${PAD.left}" x2="${PAD.left}" y1="${PAD.top}" y2="${H - PAD.bottom}" stroke="black"/>`);
  out.push(`<text x="${(PAD.left + W - PAD.right) / 2}" y="${H - 10}" text-anchor="middle">${esc(o.xLabel)}</text>`);
  out.push(`<text transform="translate(16 ${(PAD.top + H - PAD.bottom) / 2}) rotate(-90)" text-anchor="middle">${esc(o.yLabel)}</text>`);
  for (const m of o.markers ?? []) {
    if (m.x < xMin || m.x > xMax) continue;
    out.push(`<line x1="${px(m.x).toFixed(1)}" x2="${px(m.x).toFixed(1)}" y1="${PAD.top}" y2="${H - PAD.bottom}" stroke="#888" stroke-dasharray="4 3"/>`);
    out.push(`<text x="${(px(m.x) - 4).toFixed(1)}" y="${PAD.top + 12}" text-anchor="end" fill="#555">${esc(m.label)}</text>`);
  }
  o.series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const dash = DASHES[i % DASHES.length] ? ` stroke-dasharray="${DASHES[i % DASHES.length]}"` : '';
    let d = '';
    let pen = false;
    for (const [x, y] of s.points) {
      if (y === null || !Number.isFinite(y)) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${px(x).toFixed(1)} ${py(y).toFixed(1)} `;
      pen = true;
    }
    if (d) out.push(`<path d="${d.trim()}" fill="none" stroke="${color}" stroke-width="2"${dash}/>`);
    const single = s.points.filter((p) => p[1] !== null && Number.isFinite(p[1]));
    if (single.length === 1) out.push(`<circle cx="${px(single[0][0]).toFixed(1)}" cy="${py(single[0][1]!).toFixed(1)}" r="3" fill="${color}"/>`);
    const ly = PAD.top + 8 + i * 18;
    out.push(`<line x1="${W - PAD.right + 12}" x2="${W - PAD.right + 32}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"${dash}/>`);
    out.push(`<text x="${W - PAD.right + 38}" y="${ly + 4}">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** Horizontal bars of values in 0..1 (win rates), with a dashed line at 0.5. */
export function barChart(o: { title: string; bars: readonly { label: string; value: number | null }[] }): string {
  const rowH = 28;
  const h = 50 + rowH * o.bars.length + 24;
  const left = 220;
  const width = W - left - 60;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${h}" viewBox="0 0 ${W} ${h}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${h}" fill="white"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${esc(o.title)}</text>`,
  ];
  o.bars.forEach((b, i) => {
    const y = 40 + i * rowH;
    out.push(`<text x="${left - 8}" y="${y + 15}" text-anchor="end">${esc(b.label)}</text>`);
    if (b.value === null) out.push(`<text x="${left + 4}" y="${y + 15}" fill="#777">no decisive votes</text>`);
    else {
      out.push(`<rect x="${left}" y="${y + 2}" width="${(b.value * width).toFixed(1)}" height="${rowH - 8}" fill="${COLORS[0]}"/>`);
      out.push(`<text x="${(left + b.value * width + 4).toFixed(1)}" y="${y + 15}">${(100 * b.value).toFixed(1)}%</text>`);
    }
  });
  const base = 40 + rowH * o.bars.length;
  out.push(`<line x1="${left}" x2="${left + width}" y1="${base}" y2="${base}" stroke="black"/>`);
  for (const v of [0, 0.5, 1]) out.push(`<text x="${left + v * width}" y="${base + 16}" text-anchor="middle">${v * 100}%</text>`);
  out.push(`<line x1="${left + width / 2}" x2="${left + width / 2}" y1="36" y2="${base}" stroke="#888" stroke-dasharray="4 3"/>`);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
