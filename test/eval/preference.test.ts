import { describe, expect, it } from 'vitest';
import { buildCiderIdf } from '../../eval/text-metrics.js';
import {
  comparePairwise,
  metricJudge,
  metricPreference,
  toSystemVote,
  windowTextScore,
  winRate,
  type JudgeRequest,
  type PairJudge,
  type Verdict,
} from '../../eval/preference.js';
import type { PairWindow } from '../../eval/windows.js';

const w = (k: number, a: string, b: string, reference: string): PairWindow => ({ start: k * 100, end: (k + 1) * 100, a, b, reference });

describe('metric preference', () => {
  const windows = [
    w(0, 'corner to red from the left', 'what a lovely afternoon', 'corner to red from the left'),
    w(1, 'nothing much', 'goal for blue number nine', 'goal for blue number nine'),
    w(2, 'shot by red', 'shot by red', 'shot by red wide'),
    w(3, 'free kick to blue in midfield', 'anything', 'free kick to blue in midfield'),
  ];

  it('asks both orders, gives the same vote both ways, counts votes and ties', async () => {
    const r = await metricPreference(windows);
    expect(r.windows.map((x) => x.votes.map((v) => `${v.order}:${v.verdict}->${v.vote}`))).toEqual([
      ['AB:A->A', 'BA:B->A'],
      ['AB:B->B', 'BA:A->B'],
      ['AB:tie->tie', 'BA:tie->tie'],
      ['AB:A->A', 'BA:B->A'],
    ]);
    expect({ a: r.votesA, b: r.votesB, ties: r.ties, none: r.noVote }).toEqual({ a: 4, b: 2, ties: 2, none: 0 });
    expect(r.winRateA).toBeCloseTo(4 / 6, 12);
    expect(r.malformed).toEqual([]);
  });

  it('combined score is the mean of BLEU-4, ROUGE-L and CIDEr-D / 10', () => {
    const idf = buildCiderIdf(['a b c d', 'e f g h']);
    expect(windowTextScore('a b c d', 'a b c d', idf)).toEqual({ bleu4: 1, rougeL: 1, ciderD: 10, combined: 1 });
    expect(windowTextScore('x y', 'a b c d', idf).combined).toBe(0);
  });

  it('the metric judge is symmetric', async () => {
    const j = metricJudge(windows);
    const req = (first: string, second: string): JudgeRequest => ({ index: 0, window: windows[0], order: 'AB', reference: windows[0].reference, first, second });
    expect((await j.judge(req(windows[0].a, windows[0].b))).verdict).toBe('A');
    expect((await j.judge(req(windows[0].b, windows[0].a))).verdict).toBe('B');
  });
});

describe('vote counting', () => {
  it('maps positional verdicts back to systems and reports missing votes', async () => {
    const answers: (Verdict | null)[] = ['A', 'A', null, 'tie'];
    let i = 0;
    const judge: PairJudge = { name: 'scripted', judge: async () => ({ verdict: answers[i++], raw: `answer ${i}` }) };
    const r = await comparePairwise([w(0, 'x', 'y', 'r'), w(1, 'x', 'y', 'r')], judge);
    // Window 0: AB "A" -> system A; BA "A" (B shown first) -> system B. Window 1: no vote, then tie.
    expect({ a: r.votesA, b: r.votesB, ties: r.ties, none: r.noVote, rate: r.winRateA }).toEqual({ a: 1, b: 1, ties: 1, none: 1, rate: 0.5 });
    expect(r.malformed).toEqual([{ index: 1, start: 100, end: 200, order: 'AB', raw: 'answer 3' }]);
  });

  it('win rate is null without decisive votes', () => {
    expect(winRate(0, 0)).toBeNull();
    expect(winRate(3, 1)).toBe(0.75);
    expect(toSystemVote('BA', 'B')).toBe('A');
    expect(toSystemVote('BA', 'tie')).toBe('tie');
  });
});
