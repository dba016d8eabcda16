/** Exact values of the streams-evaluation helpers on hand-made cases. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ZERO_COUNTS } from '../../../eval/commentary-metrics.js';
import { costSeries, flatCheck } from '../../../eval/streams/efficiency.js';
import { checkGoals } from '../../../eval/streams/goals.js';
import { readRows, RowWriter, type OutputRow } from '../../../eval/streams/outputs.js';
import { pairsToJudge, type PairScore, type PolicyScore, type RangeScore } from '../../../eval/streams/score.js';
import { zeroMemory } from '../../../eval/memory-metrics.js';
import { buckets, earlyLateSplit, eventF1, flatRanges, median } from '../../../eval/streams/stream-time.js';
import { previousTextBefore, suiteSeeds } from '../../../eval/streams/suite.js';
import { barChart, lineChart, niceStep } from '../../../eval/streams/svg.js';

describe('stream time', () => {
  it('cuts buckets at multiples of the bucket length of video time', () => {
    expect(buckets(1000, 2500, 600)).toEqual([
      { from: 1000, to: 1200 },
      { from: 1200, to: 1800 },
      { from: 1800, to: 2400 },
      { from: 2400, to: 2500 },
    ]);
    expect(buckets(60, 180, 30).map((b) => b.from)).toEqual([60, 90, 120, 150]);
    expect(buckets(5, 5, 10)).toEqual([]);
  });

  it('splits at hour 1 on long streams and at the middle on short ones', () => {
    expect(earlyLateSplit(1000, 7200)).toBe(3600);
    expect(earlyLateSplit(1000, 4199)).toBe(2599);
    expect(earlyLateSplit(60, 180)).toBe(120);
    expect(earlyLateSplit(3700, 7300)).toBe(5500);
  });

  it('picks the flatness reference and late ranges', () => {
    expect(flatRanges(1000, 7200)).toEqual({ reference: { from: 1060, to: 1240 }, late: { from: 7020, to: 7200 } });
    expect(flatRanges(0, 100)).toEqual({ reference: { from: 10, to: 25 }, late: { from: 75, to: 100 } });
  });

  it('event F1 is the harmonic mean of recall and precision', () => {
    // recall 3/6 = 0.5, precision 3/4 = 0.75 -> F1 = 2 * 0.375 / 1.25 = 0.6
    expect(eventF1({ ...ZERO_COUNTS, voiced: 6, recalled: 3, spoken: 4, spokenRight: 3 })).toBeCloseTo(0.6, 12);
    expect(eventF1({ ...ZERO_COUNTS, voiced: 6, recalled: 0, spoken: 4, spokenRight: 0 })).toBe(0);
    expect(eventF1({ ...ZERO_COUNTS, voiced: 6, recalled: 2 })).toBeNaN();
  });

  it('median of odd, even and empty lists', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });
});

describe('suite', () => {
  it('takes held-out seeds from the test range only', () => {
    expect(suiteSeeds(3)).toEqual([300000, 300001, 300002]);
    expect(() => suiteSeeds(2, 100000)).toThrow(/test range 300000-300099/);
    expect(() => suiteSeeds(2, 300099)).toThrow(/test range/);
  });

  it('previous text at t0 is the spoken reference ending at or before t0, oldest first', () => {
    const content = [[0, 1, 'Kickoff!'], [1, 2, ' ...'], [2, 3, 'Pass.'], [3, 4, 'Shot!']] as const;
    expect(previousTextBefore(content, 3)).toEqual(['Kickoff!', 'Pass.']);
    expect(previousTextBefore(content, 0)).toEqual([]);
  });
});

describe('per-second rows', () => {
  it('appends rows, ignores a torn last line, and on resume compares instead of rewriting', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'sightline-rows-')), 'streaming.jsonl');
    writeFileSync(file, `${JSON.stringify({ start_time: 10, end_time: 11, response: 'a' })}\n{"start_time": 11, "end_`);
    const w = new RowWriter(file);
    expect(w.savedSeconds).toBe(1);
    w.write({ start_time: 10, end_time: 11, response: 'a' });
    w.write({ start_time: 10, end_time: 11, response: 'b' }); // regenerated differently: counted, not written
    w.write({ start_time: 11, end_time: 12, response: null });
    expect(w.mismatches).toBe(1);
    expect(readRows(file)).toEqual([
      { start_time: 10, end_time: 11, response: 'a' },
      { start_time: 11, end_time: 12, response: null },
    ]);
    expect(readFileSync(file, 'utf8').endsWith('\n')).toBe(true);
  });
});

describe('cost over stream time', () => {
  const row = (s: number, step: number, kv: number, rss: number): OutputRow => ({ start_time: s, end_time: s + 1, response: ' ...', step_ms: step, kv_tokens: kv / 4, kv_bytes: kv, rss_bytes: rss });

  it('pools runs per minute: median step, mean KV bytes, max RSS; unproduced seconds left out', () => {
    const a = [row(0, 10, 100, 1000), row(30, 20, 300, 3000), row(60, 5, 400, 500)];
    const b = [row(10, 30, 200, 2000), { start_time: 70, end_time: 71, response: null }];
    expect(costSeries('streaming', [a, b]).points).toEqual([
      { minute: 0, stepP50Ms: 20, kvBytes: 200, rssBytes: 3000, seconds: 3 },
      { minute: 1, stepP50Ms: 5, kvBytes: 400, rssBytes: 500, seconds: 1 },
    ]);
  });

  it('compares the late range with the reference range', () => {
    // 0..99: reference [10, 25), late [75, 100)
    const rows = Array.from({ length: 100 }, (_, s) => row(s, s < 50 ? 10 : 10.4, s < 50 ? 1000 : 1100, 5000));
    const f = flatCheck('streaming', [rows], 0, 100);
    expect(f.stepP50Ms).toEqual([10, 10.4]);
    expect(f.kvBytes).toEqual([1000, 1100]);
    expect(f.ratios.step).toBeCloseTo(1.04, 12);
    expect(f.ratios.kv).toBeCloseTo(1.1, 12);
    expect(f.flat).toEqual({ step: true, kv: false, rss: true });
  });
});

describe('goals', () => {
  const range = (quality: number): RangeScore => ({ from: 0, to: 1, seconds: 1, text: { windows: 0, bleu4: 0, rougeL: 0, ciderD: 0, combined: 0 }, quality });
  const policy = (name: PolicyScore['policy'], early: number, late: number): PolicyScore => ({ policy: name, overall: range((early + late) / 2), early: range(early), late: range(late), buckets: [] });
  const pair = (b: PairScore['b'], votesA: number, votesB: number): PairScore => ({ a: 'streaming', b, judge: 'metrics', votesA, votesB, ties: 0, noVote: 0, windows: 1, winRateA: votesA / (votesA + votesB) });

  it('are met or not exactly at their thresholds', () => {
    const flat = flatCheck('streaming', [Array.from({ length: 100 }, (_, s) => ({ start_time: s, end_time: s + 1, response: 'x', step_ms: 10, kv_tokens: 1, kv_bytes: 4, rss_bytes: 8 }))], 0, 100);
    const goals = checkGoals({ overall: [policy('streaming', 40, 38), policy('window', 30, 29)], pairs: [pair('resets', 3, 3)], flat, earlyLabel: 'hour 1', lateLabel: 'hour 2+' });
    // The fifth, memory, is not measured without memory counts.
    expect(goals.map((g) => g.met)).toEqual([true, true, false, true, null]);
    expect(goals[0].measured).toBe('40.0 -> 38.0 (-2.0 points)');
    const worse = checkGoals({ overall: [policy('streaming', 40, 37.9), policy('window', 36.5, 36)], pairs: [pair('resets', 4, 3)], earlyLabel: 'a', lateLabel: 'b' });
    expect(worse.map((g) => g.met)).toEqual([false, false, true, null, null]);
  });

  it('memory: streaming or the default policy at least window + 10 points of fact accuracy in the late range', () => {
    const withMemory = (name: PolicyScore['policy'], right: number, wrong: number): PolicyScore => {
      const p = policy(name, 50, 50);
      const memory = zeroMemory();
      memory.score = { right, wrong, notSaid: 0, reference: right + wrong };
      return { ...p, late: { ...p.late, memory } };
    };
    const goal = (policies: PolicyScore[]) => checkGoals({ overall: policies, pairs: [], earlyLabel: 'hour 1', lateLabel: 'hour 2+' })[4];
    expect(goal([withMemory('streaming', 59, 41), withMemory('window', 5, 5)])).toMatchObject({ met: false, measured: 'streaming 59.0; window 50.0' });
    // Exactly 10 points above window, by the default policy: met.
    expect(goal([withMemory('streaming', 59, 41), withMemory('refresh', 3, 2), withMemory('window', 1, 1)])).toMatchObject({ met: true, measured: 'streaming 59.0, refresh 60.0; window 50.0' });
    expect(goal([withMemory('streaming', 6, 4), withMemory('window', 0, 0)]).met).toBeNull();
  });
});

describe('pairs judged', () => {
  it('streaming against every other policy, and the shipped default (refresh) against the baselines', () => {
    expect(pairsToJudge(['streaming', 'resets', 'window', 'full', 'refresh'])).toEqual([
      ['streaming', 'resets'], ['streaming', 'window'], ['streaming', 'full'], ['streaming', 'refresh'],
      ['refresh', 'resets'], ['refresh', 'window'], ['refresh', 'full'],
    ]);
    expect(pairsToJudge(['refresh', 'window'])).toEqual([['refresh', 'window']]);
    expect(pairsToJudge(['streaming'])).toEqual([]);
  });
});

describe('svg charts', () => {
  it('nice tick steps', () => {
    expect([niceStep(100), niceStep(7), niceStep(0.3), niceStep(0)]).toEqual([20, 2, 0.1, 1]);
  });

  it('draws one path per series, breaking lines at missing values, and a legend', () => {
    const svg = lineChart({ title: 'q <1>', xLabel: 'min', yLabel: 'F1', series: [{ name: 'streaming', points: [[0, 10], [1, null], [2, 20], [3, 30]] }, { name: 'window', points: [[0, 5]] }] });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('q &lt;1&gt;');
    const path = /<path d="([^"]+)"/.exec(svg)![1];
    expect(path.match(/M/g)).toHaveLength(2); // a break at the missing point
    expect(path.match(/L/g)).toHaveLength(1);
    expect(svg).toContain('<circle'); // a single-point series is drawn as a dot
    expect(svg).toContain('>window</text>');
  });

  it('bar chart labels win rates in percent', () => {
    const svg = barChart({ title: 'w', bars: [{ label: 'vs resets', value: 0.625 }, { label: 'vs full', value: null }] });
    expect(svg).toContain('62.5%');
    expect(svg).toContain('no decisive votes');
  });
});
