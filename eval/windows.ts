/**
 * Inf-Streams-Eval windowing. Definitions:
 * - A per-second output is `{start, end, text}` (the saved `{start_time, end_time, response}` rows map
 *   onto it with {@link outputsFromResponses}). Silence (text that is empty or only "..." after trimming,
 *   LiveCC's " ..." convention) is dropped, on the candidate and on the reference side alike.
 * - Windows are (t0 + k L, t0 + (k + 1) L] for k = 0, 1, ... while the window start is before the last
 *   end time seen in any input. Defaults: t0 = 0 (pass the protocol's 1000 s when generation started
 *   there, so the prefilled part is not scored) and L = 100 s (the protocol's reset period; the
 *   references do not fix the scoring window, so it is an option).
 * - A text (output or reference row) belongs to the window whose interval contains its end time; texts
 *   ending at or before t0 belong to none. Texts in a window are joined with single spaces, in input
 *   order sorted by end time (stable).
 * - Windows where every side is empty are dropped unless `keepEmpty` is set.
 */

export interface TimedText {
  start: number;
  end: number;
  text: string;
}

/** One reference row of the Inf-Streams layout: [start, end, text]. */
export type ContentRow = readonly [number, number, string];

export interface WindowOptions {
  /** Window length in seconds (default 100). */
  windowSec?: number;
  /** Scoring starts here (default 0); texts ending at or before t0 are not scored. */
  t0?: number;
  /** Keep windows where all sides are empty (default false). */
  keepEmpty?: boolean;
}

export interface TextWindow {
  /** Exclusive start (seconds). */
  start: number;
  /** Inclusive end (seconds). */
  end: number;
  candidate: string;
  reference: string;
}

export interface PairWindow {
  start: number;
  end: number;
  /** Joined text of system A in this window. */
  a: string;
  /** Joined text of system B in this window. */
  b: string;
  reference: string;
}

export const DEFAULT_WINDOW_SEC = 100;

/** True for a silent line: empty or only "..." once trimmed. */
export function isSilence(text: string): boolean {
  const t = text.trim();
  return t === '' || t === '...' || t === '…';
}

/** Maps saved rows `{start_time, end_time, response}` to {@link TimedText}. */
export function outputsFromResponses(rows: readonly { start_time: number; end_time: number; response: string }[]): TimedText[] {
  return rows.map((r) => ({ start: r.start_time, end: r.end_time, text: r.response }));
}

/** Maps Inf-Streams `content` rows to {@link TimedText}. */
export function contentToTimed(content: readonly ContentRow[]): TimedText[] {
  return content.map(([start, end, text]) => ({ start, end, text }));
}

function resolve(opts: WindowOptions): { windowSec: number; t0: number; keepEmpty: boolean } {
  const windowSec = opts.windowSec ?? DEFAULT_WINDOW_SEC;
  const t0 = opts.t0 ?? 0;
  if (!(windowSec > 0) || !Number.isFinite(windowSec)) throw new RangeError(`windowSec must be a positive number, got ${windowSec}`);
  if (!Number.isFinite(t0)) throw new RangeError(`t0 must be a finite number, got ${t0}`);
  return { windowSec, t0, keepEmpty: opts.keepEmpty ?? false };
}

/** Window index of an end time, or -1 when it ends at or before t0. */
function windowIndex(end: number, t0: number, windowSec: number): number {
  if (!(end > t0)) return -1;
  let k = Math.ceil((end - t0) / windowSec) - 1;
  // Guard against floating-point drift at the boundaries: (start, end] must hold exactly.
  while (k > 0 && end <= t0 + k * windowSec) k--;
  while (end > t0 + (k + 1) * windowSec) k++;
  return k;
}

/** Joins the non-silent texts of each window; returns one array of strings per window index. */
function bucket(texts: readonly TimedText[], t0: number, windowSec: number, count: number): string[] {
  const parts: { end: number; order: number; text: string }[][] = Array.from({ length: count }, () => []);
  texts.forEach((t, order) => {
    if (isSilence(t.text)) return;
    const k = windowIndex(t.end, t0, windowSec);
    if (k < 0 || k >= count) return;
    parts[k].push({ end: t.end, order, text: t.text.trim() });
  });
  return parts.map((p) =>
    p
      .sort((x, y) => x.end - y.end || x.order - y.order)
      .map((x) => x.text)
      .join(' '),
  );
}

function windowCount(sides: readonly (readonly TimedText[])[], t0: number, windowSec: number): number {
  let last = -Infinity;
  for (const side of sides) for (const t of side) if (t.end > last) last = t.end;
  return last > t0 ? windowIndex(last, t0, windowSec) + 1 : 0;
}

/** Per-window candidate/reference text pairs for one system. */
export function windowTexts(outputs: readonly TimedText[], content: readonly ContentRow[], opts: WindowOptions = {}): TextWindow[] {
  const { windowSec, t0, keepEmpty } = resolve(opts);
  const ref = contentToTimed(content);
  const n = windowCount([outputs, ref], t0, windowSec);
  const cands = bucket(outputs, t0, windowSec, n);
  const refs = bucket(ref, t0, windowSec, n);
  const out: TextWindow[] = [];
  for (let k = 0; k < n; k++) {
    if (!keepEmpty && cands[k] === '' && refs[k] === '') continue;
    out.push({ start: t0 + k * windowSec, end: t0 + (k + 1) * windowSec, candidate: cands[k], reference: refs[k] });
  }
  return out;
}

/** Per-window texts of two systems A and B and the reference, on one window grid. */
export function pairWindows(
  a: readonly TimedText[],
  b: readonly TimedText[],
  content: readonly ContentRow[],
  opts: WindowOptions = {},
): PairWindow[] {
  const { windowSec, t0, keepEmpty } = resolve(opts);
  const ref = contentToTimed(content);
  const n = windowCount([a, b, ref], t0, windowSec);
  const as = bucket(a, t0, windowSec, n);
  const bs = bucket(b, t0, windowSec, n);
  const refs = bucket(ref, t0, windowSec, n);
  const out: PairWindow[] = [];
  for (let k = 0; k < n; k++) {
    if (!keepEmpty && as[k] === '' && bs[k] === '' && refs[k] === '') continue;
    out.push({ start: t0 + k * windowSec, end: t0 + (k + 1) * windowSec, a: as[k], b: bs[k], reference: refs[k] });
  }
  return out;
}
