/**
 * Accounting of bench/soak.ts, kept apart so a unit test can hold it (test/bench/soak-stats.test.ts): the RSS
 * trend after warm-up, transcript seconds lost, and percentiles.
 */
import { readFileSync } from 'node:fs';

export interface RssSample {
  /** Seconds since the soak started. */
  tSec: number;
  rssBytes: number;
}

export interface RssTrend {
  samples: number;
  meanMB: number;
  /** Least-squares slope of RSS over the samples after warm-up, in MB per hour. */
  slopeMBPerHour: number;
  /** The slope as a share of the mean RSS after warm-up, percent per hour (the goal: < 5). */
  slopePctPerHour: number;
}

/** The RSS trend of the samples taken at or after `warmupSec`; NaN figures when fewer than 3 remain. */
export function rssTrend(all: RssSample[], warmupSec: number): RssTrend {
  const s = all.filter((x) => x.tSec >= warmupSec);
  const n = s.length;
  if (n < 3) return { samples: n, meanMB: NaN, slopeMBPerHour: NaN, slopePctPerHour: NaN };
  const mt = s.reduce((a, x) => a + x.tSec, 0) / n;
  const mr = s.reduce((a, x) => a + x.rssBytes, 0) / n;
  let num = 0;
  let den = 0;
  for (const x of s) {
    num += (x.tSec - mt) * (x.rssBytes - mr);
    den += (x.tSec - mt) ** 2;
  }
  const bytesPerSec = den === 0 ? 0 : num / den;
  const MB = 2 ** 20;
  return { samples: n, meanMB: mr / MB, slopeMBPerHour: (bytesPerSec * 3600) / MB, slopePctPerHour: (100 * bytesPerSec * 3600) / mr };
}

/** One line of a stream's commentary.jsonl: a second of commentary, or a gap (`gap`: why there was no picture). */
export interface TranscriptLine {
  start: number;
  end: number;
  text?: string;
  gap?: string;
}

/**
 * Whole seconds from the transcript's first second to its last that no line covers: neither commentary nor a
 * gap the session marked (an outage is accounted for, a second skipped or dropped silently is lost).
 */
export function lostSeconds(lines: TranscriptLine[]): { span: number; covered: number; lost: number; gapSeconds: number } {
  if (lines.length === 0) return { span: 0, covered: 0, lost: 0, gapSeconds: 0 };
  const first = Math.floor(Math.min(...lines.map((l) => l.start)));
  const last = Math.ceil(Math.max(...lines.map((l) => l.end)));
  const covered = new Uint8Array(last - first);
  let gapSeconds = 0;
  for (const l of lines) {
    const a = Math.max(first, Math.floor(l.start));
    const b = Math.max(a + 1, Math.ceil(l.end));
    for (let t = a; t < b && t < last; t++) covered[t - first] = 1;
    if (l.gap !== undefined) gapSeconds += l.end - l.start;
  }
  const n = covered.reduce((x, c) => x + c, 0);
  return { span: last - first, covered: n, lost: last - first - n, gapSeconds };
}

/** The p-th percentile (0..100) by nearest rank; NaN for no values. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export interface PartTrend {
  part: string;
  /** At the first sample after warm-up and at the last, in MB. */
  fromMB: number;
  toMB: number;
  slopeMBPerHour: number;
}

/** Each part's trend after warm-up (the parts of bench/soak.ts's memory samples), largest slope first. */
export function partTrends(samples: { tSec: number; bytes: Record<string, number> }[], warmupSec: number): PartTrend[] {
  const after = samples.filter((s) => s.tSec >= warmupSec).sort((a, b) => a.tSec - b.tSec);
  const names = [...new Set(after.flatMap((s) => Object.keys(s.bytes)))];
  return names
    .map((part) => {
      const series = after.filter((s) => part in s.bytes).map((s) => ({ tSec: s.tSec, rssBytes: s.bytes[part] }));
      const MB = 2 ** 20;
      return { part, fromMB: (series[0]?.rssBytes ?? NaN) / MB, toMB: (series.at(-1)?.rssBytes ?? NaN) / MB, slopeMBPerHour: rssTrend(series, warmupSec).slopeMBPerHour };
    })
    .sort((a, b) => (b.slopeMBPerHour || 0) - (a.slopeMBPerHour || 0));
}

/**
 * `npx tsx bench/soak-stats.ts OUT.json FROM_SEC ...`: a soak's RSS slope from each later start, from the samples
 * in its `--out` record (every 10 s): whether a slope is a fill that levels off or a steady climb.
 */
if (import.meta.url === `file://${process.argv[1]}`) {
  const [file, ...starts] = process.argv.slice(2);
  const samples = (JSON.parse(readFileSync(file, 'utf8')) as { rssSamples: [number, number][] }).rssSamples.map(([tSec, mb]) => ({ tSec, rssBytes: mb * 2 ** 20 }));
  for (const from of starts.map(Number)) {
    const t = rssTrend(samples, from);
    console.log(`from ${from} s: ${t.samples} samples, mean ${t.meanMB.toFixed(0)} MB, slope ${t.slopeMBPerHour.toFixed(1)} MB/h = ${t.slopePctPerHour.toFixed(2)}% per hour`);
  }
}
