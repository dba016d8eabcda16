import { describe, expect, it } from 'vitest';
import { commentaryReport } from '../../src/cli/eval.js';
import { rates, ZERO_COUNTS } from '../../eval/commentary-metrics.js';

describe('eval commentary report', () => {
  it('lists voiced events by kind, most frequent first, after the totals', () => {
    const counts = { ...ZERO_COUNTS, voiced: 5, recalled: 2, typeNamed: 3, teamNamed: 3, spoken: 4, spokenRight: 2, quiet: 10, quietKept: 9 };
    const byKind = {
      goal: { voiced: 1, recalled: 1, typeNamed: 1, teamNamed: 1, unanswered: 0 },
      dribble: { voiced: 4, recalled: 1, typeNamed: 2, teamNamed: 2, unanswered: 2 },
    };
    const md = commentaryReport({ decoding: {}, policy: 'streaming', matches: [], overall: rates(counts), counts, byKind }, { model: 'm', seconds: 60 });
    const rows = md.split('\n').filter((l) => /^\| (goal|dribble) \|/.test(l));
    expect(rows).toEqual(['| dribble | 4 | 1 | 2 | 2 | 2 |', '| goal | 1 | 1 | 1 | 1 | 0 |']);
    expect(md.indexOf('Counts: 5 voiced events')).toBeLessThan(md.indexOf('| kind | voiced |'));
    expect(md).toContain('greedy decoding, KV cache policy streaming.');
  });

  it('states the probability-mass decisions the run used', () => {
    const counts = { ...ZERO_COUNTS };
    const md = commentaryReport({ decoding: { endThreshold: 0.6 }, policy: 'refresh', matches: [], overall: rates(counts), counts, byKind: {} }, { model: 'm', seconds: 60 });
    expect(md).toContain('greedy decoding, a line ends only when P(end of turn) >= 0.6, KV cache policy refresh.');
  });
});
