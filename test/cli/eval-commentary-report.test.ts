import { describe, expect, it } from 'vitest';
import { commentaryReport } from '../../src/cli/eval.js';
import { rates, ZERO_COUNTS } from '../../eval/commentary-metrics.js';
import { zeroMemory } from '../../eval/memory-metrics.js';

describe('eval commentary report', () => {
  it('lists voiced events by kind, most frequent first, after the totals', () => {
    const counts = { ...ZERO_COUNTS, voiced: 5, recalled: 2, typeNamed: 3, teamNamed: 3, spoken: 4, spokenRight: 2, quiet: 10, quietKept: 9 };
    const byKind = {
      goal: { voiced: 1, recalled: 1, typeNamed: 1, teamNamed: 1, unanswered: 0 },
      dribble: { voiced: 4, recalled: 1, typeNamed: 2, teamNamed: 2, unanswered: 2 },
    };
    const md = commentaryReport({ decoding: {}, policy: 'streaming', world: 1, matches: [], overall: rates(counts), counts, byKind, memoryByHour: [zeroMemory()] }, { model: 'm', seconds: 60 });
    const rows = md.split('\n').filter((l) => /^\| (goal|dribble) \|/.test(l));
    expect(rows).toEqual(['| dribble | 4 | 1 | 2 | 2 | 2 |', '| goal | 1 | 1 | 1 | 1 | 0 |']);
    expect(md.indexOf('Counts: 5 voiced events')).toBeLessThan(md.indexOf('| kind | voiced |'));
    expect(md).toContain('greedy decoding, KV cache policy streaming.');
  });

  it('states the probability-mass decisions the run used', () => {
    const counts = { ...ZERO_COUNTS };
    const md = commentaryReport({ decoding: { endThreshold: 0.6 }, policy: 'refresh', world: 1, matches: [], overall: rates(counts), counts, byKind: {}, memoryByHour: [zeroMemory()] }, { model: 'm', seconds: 60 });
    expect(md).toContain('greedy decoding, a line ends only when P(end of turn) >= 0.6, KV cache policy refresh.');
  });

  it('reports memory facts right / wrong / not said per hour, overall and per match, with the world version', () => {
    const counts = { ...ZERO_COUNTS };
    const hour1 = zeroMemory();
    hour1.score = { right: 3, wrong: 1, notSaid: 2, reference: 5 };
    hour1.tally = { right: 1, wrong: 0, notSaid: 0, reference: 1 };
    const hour2 = zeroMemory();
    hour2.score = { right: 1, wrong: 1, notSaid: 0, reference: 1 };
    const match = { seed: 300000, counts, metrics: rates(counts), byKind: {}, memoryByHour: [hour1, hour2], segments: [] };
    const md = commentaryReport({ decoding: {}, policy: 'refresh', world: 2, matches: [match], overall: rates(counts), counts, byKind: {}, memoryByHour: [hour1, hour2] }, { model: 'm', seconds: 7200 });
    expect(md).toContain('held-out matches of 7200 s, world version 2,');
    expect(md).toContain('## Memory facts (policy refresh)');
    const memory = md.slice(md.indexOf('## Memory facts'));
    const row = (name: string) => memory.split('\n').find((l) => l.startsWith(`| ${name} |`));
    expect(row('hour 1')).toBe('| hour 1 | 80.0 | 4 | 1 | 2 of 6 | 3/4 (75.0), 2 not said | 1/1 (100.0), 0 not said | - | - | - |');
    expect(row('hour 2')).toBe('| hour 2 | 50.0 | 1 | 1 | 0 of 1 | 1/2 (50.0), 0 not said | - | - | - | - |');
    expect(row('**all**')).toBe('| **all** | 71.4 | 5 | 2 | 2 of 7 | 4/6 (66.7), 2 not said | 1/1 (100.0), 0 not said | - | - | - |');
    expect(row('seed 300000')).toBe(row('**all**')!.replace('**all**', 'seed 300000'));
  });
});
