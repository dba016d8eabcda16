/** The soak's accounting (bench/soak-stats.ts): RSS slope after warm-up, transcript seconds lost, percentiles. */
import { describe, expect, it } from 'vitest';
import { arenaHeaps, classify, parseSmaps } from '../../bench/proc-memory.js';
import { lostSeconds, partTrends, percentile, rssTrend } from '../../bench/soak-stats.js';

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

  it("memory by part: each part's trend after warm-up, the steepest first", () => {
    const samples = [0, 100, 200, 300].map((t) => ({ tSec: t, bytes: { flat: 50 * MB, rising: (10 + t / 100) * MB } }));
    const [rising, flat] = partTrends(samples, 100);
    expect(rising).toMatchObject({ part: 'rising', fromMB: 11, toMB: 13 });
    expect(rising.slopeMBPerHour).toBeCloseTo(36, 6);
    expect(flat).toMatchObject({ part: 'flat', fromMB: 50, toMB: 50, slopeMBPerHour: 0 });
  });
});

describe('server mappings by kind (/proc/<pid>/smaps)', () => {
  const mapping = (range: string, perms: string, path: string, rssKb: number) => `${range} ${perms} 00000000 00:00 0 ${path}\nSize: 4 kB\nRss: ${rssKb} kB\n`;
  it('tells malloc arenas (read-write front of a 64 MiB-aligned reservation) from other anonymous memory, [heap] and files', () => {
    const smaps = [
      mapping('55d0c0000000-55d0c0100000', 'r-xp', '/usr/bin/node', 1024),
      mapping('55d0c2000000-55d0c4000000', 'rw-p', '[heap]', 2048),
      mapping('7f1c00000000-7f1c02000000', 'rw-p', '', 4096), // arena: 32 MiB used ...
      mapping('7f1c02000000-7f1c04000000', '---p', '', 0), //     ... and its PROT_NONE tail up to a 64 MiB boundary
      mapping('7f1c10000000-7f1c10040000', 'rw-p', '', 256), // a V8 page: anonymous, not an arena
      mapping('7f1c10100000-7f1c10101000', '---p', '', 0), //    a guard page that ends off the boundary
      mapping('7f1c10101000-7f1c10901000', 'rw-p', '', 512), //  a thread stack
    ].join('');
    expect(classify(parseSmaps(smaps))).toEqual({ mallocArenas: 4096 * 1024, arenaCount: 1, brkHeap: 2048 * 1024, otherAnon: (256 + 512) * 1024, files: 1024 * 1024 });
    expect(arenaHeaps(parseSmaps(smaps))).toEqual([{ start: 0x7f1c00000000n, rssBytes: 4096 * 1024 }]);
  });
});
