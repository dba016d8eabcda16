/** The soak's accounting (bench/soak-stats.ts): RSS slope after warm-up, transcript seconds lost, percentiles. */
import { describe, expect, it } from 'vitest';
import { lostSeconds, percentile, rssTrend } from '../../bench/soak-stats.js';

const MB = 2 ** 20;

describe('soak accounting', () => {
  it('RSS slope: warm-up samples are left out; a flat series is 0%/h, 10 MB per hour on 100 MB is 10%/h', () => {
    const warm = [{ tSec: 0, rssBytes: 10 * MB }, { tSec: 10, rssBytes: 90 * MB }];
    const flat = [...warm, ...[60, 70, 80, 90].map((t) => ({ tSec: t, rssBytes: 100 * MB }))];
    expect(rssTrend(flat, 60)).toMatchObject({ samples: 4, meanMB: 100, slopeMBPerHour: 0, slopePctPerHour: 0 });
    const rising = [0, 1800, 3600].map((t) => ({ tSec: 600 + t, rssBytes: (95 + (10 * t) / 3600) * MB }));
    const r = rssTrend([...warm, ...rising], 600);
    expect(r.slopeMBPerHour).toBeCloseTo(10, 6);
    expect(r.slopePctPerHour).toBeCloseTo(10, 6);
    expect(rssTrend(warm, 0).slopePctPerHour).toBeNaN(); // two samples are not a trend
  });

  it('lost seconds: what neither commentary nor a marked gap covers, from the first second to the last', () => {
    const lines = [
      { start: 0, end: 1, text: 'a' },
      { start: 1, end: 2, text: ' ...' },
      { start: 2, end: 9, text: '', gap: 'udp://127.0.0.1:5000: no frames for 3.0 s' },
      { start: 9, end: 10, text: 'b' },
      { start: 12, end: 13, text: 'c' }, // 10 and 11 skipped silently
    ];
    expect(lostSeconds(lines)).toEqual({ span: 13, covered: 11, lost: 2, gapSeconds: 7 });
    expect(lostSeconds([])).toEqual({ span: 0, covered: 0, lost: 0, gapSeconds: 0 });
  });

  it('percentile by nearest rank', () => {
    const xs = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(xs, 50)).toBe(50);
    expect(percentile(xs, 99)).toBe(99);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });
});
