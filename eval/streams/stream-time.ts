/**
 * Small, exact helpers for scoring over stream time. Definitions:
 * - Buckets: [from, to) cut at multiples of `bucketSec` of video time, so buckets line up across matches:
 *   from 1000 to 2500 by 600 -> [1000, 1200), [1200, 1800), [1800, 2400), [2400, 2500).
 * - Early / late split ({@link earlyLateSplit}): at 3600 s (hour 1 vs hour 2 and beyond) when the stream
 *   starts before 3600 s and runs at least 10 minutes past it; otherwise at the middle of the stream
 *   (floored), so short runs compare their first and second half.
 * - Flatness ranges ({@link flatRanges}), as design.md's "hour 3 within 5% of minute 2": the reference
 *   is stream time [from + min(60, L/10), from + min(240, L/4)) once the cache has filled, the late range
 *   the last min(180, L/4) seconds, with L = to - from (floored to whole seconds).
 * - Event F1 ({@link eventF1}): 2 R P / (R + P) of event recall and precision; 0 when both are 0; NaN when
 *   either is undefined (no voiced event or no spoken line).
 */
import { rates, type CommentaryCounts } from '../commentary-metrics.js';

export interface Range {
  from: number;
  to: number;
}

export function buckets(from: number, to: number, bucketSec: number): Range[] {
  if (!(bucketSec > 0)) throw new RangeError(`bucketSec must be > 0, got ${bucketSec}`);
  const out: Range[] = [];
  for (let start = from; start < to; ) {
    const end = Math.min(to, (Math.floor(start / bucketSec) + 1) * bucketSec);
    out.push({ from: start, to: end });
    start = end;
  }
  return out;
}

export function earlyLateSplit(from: number, to: number): number {
  if (from < 3600 && to >= 3600 + 600) return 3600;
  return from + Math.floor((to - from) / 2);
}

export function flatRanges(from: number, to: number): { reference: Range; late: Range } {
  const L = to - from;
  return {
    reference: { from: from + Math.floor(Math.min(60, L / 10)), to: from + Math.floor(Math.min(240, L / 4)) },
    late: { from: to - Math.floor(Math.min(180, L / 4)), to },
  };
}

export function eventF1(c: CommentaryCounts): number {
  const { eventRecall: r, eventPrecision: p } = rates(c);
  if (Number.isNaN(r) || Number.isNaN(p)) return NaN;
  return r + p === 0 ? 0 : (2 * r * p) / (r + p);
}

/** Median (mean of the middle two for an even count); NaN for none. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export const mean = (xs: readonly number[]): number => (xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length);
