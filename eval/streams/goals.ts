/**
 * The goals issue 7 sets for the default model, checked against what was measured (quality in points =
 * percentage points of the run's quality figure, see score.ts):
 * 1. streaming holds: late quality >= early quality - 2 points (hour 2+ vs hour 1 on 2-hour matches);
 * 2. window degrades: its late quality is more than 2 points below its own early quality or below
 *    streaming's late quality;
 * 3. streaming beats resets: streaming's win rate against `resets` (built-in judge) is above 50%;
 * 4. flat cost: streaming's step p50, KV bytes and RSS in the late range within 5% of the reference range;
 * 5. memory (issue 22): the memory-fact accuracy of `streaming` or the shipped default policy in the late
 *    range is at least `window`'s + 10 points (window keeps no previous text, so it cannot remember).
 * A goal whose policy was not run is `null` (not measured).
 */
import { DEFAULT_CACHE_POLICY } from '../../src/cache/index.js';
import { factAccuracy, memoryTotal } from '../memory-metrics.js';
import type { FlatCheck } from './efficiency.js';
import type { PairScore, PolicyScore } from './score.js';

export interface GoalResult {
  goal: string;
  measured: string;
  met: boolean | null;
}

const pts = (x: number): string => (Number.isNaN(x) ? 'n/a' : x.toFixed(1));
const ratio = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(3)}x` : 'n/a');

export function checkGoals(o: { overall: readonly PolicyScore[]; pairs: readonly PairScore[]; flat?: FlatCheck; earlyLabel: string; lateLabel: string }): GoalResult[] {
  const of = (p: string) => o.overall.find((x) => x.policy === p);
  const s = of('streaming');
  const w = of('window');
  const out: GoalResult[] = [];
  out.push(
    s
      ? {
          goal: `streaming: quality in ${o.lateLabel} within 2 points of ${o.earlyLabel}`,
          measured: `${pts(s.early.quality)} -> ${pts(s.late.quality)} (${pts(s.late.quality - s.early.quality)} points)`,
          met: Number.isNaN(s.late.quality - s.early.quality) ? null : s.late.quality >= s.early.quality - 2,
        }
      : { goal: 'streaming: late quality within 2 points of early', measured: 'streaming not run', met: null },
  );
  if (w && s) {
    const drop = w.late.quality - w.early.quality;
    const gap = w.late.quality - s.late.quality;
    out.push({
      goal: `window (no sinks) degrades: ${o.lateLabel} more than 2 points below its ${o.earlyLabel} or below streaming`,
      measured: `window ${pts(w.early.quality)} -> ${pts(w.late.quality)} (${pts(drop)}); vs streaming in ${o.lateLabel}: ${pts(gap)} points`,
      met: Number.isNaN(drop) || Number.isNaN(gap) ? null : drop < -2 || gap < -2,
    });
  } else out.push({ goal: 'window (no sinks) degrades', measured: 'window or streaming not run', met: null });
  const r = o.pairs.find((p) => p.a === 'streaming' && p.b === 'resets' && p.judge === 'metrics');
  out.push(
    r
      ? {
          goal: 'streaming beats 100-s resets on win rate (built-in judge)',
          measured: r.winRateA === null ? 'no decisive votes' : `${(100 * r.winRateA).toFixed(1)}% (${r.votesA} vs ${r.votesB} votes, ${r.ties} ties)`,
          met: r.winRateA === null ? null : r.winRateA > 0.5,
        }
      : { goal: 'streaming beats 100-s resets on win rate', measured: 'resets not run', met: null },
  );
  const f = o.flat;
  out.push(
    f
      ? {
          goal: 'streaming: flat latency and memory (late within 5% of early)',
          measured: `step p50 ${ratio(f.ratios.step)}, KV bytes ${ratio(f.ratios.kv)}, RSS ${ratio(f.ratios.rss)}`,
          met: f.flat.step && f.flat.kv && f.flat.rss,
        }
      : { goal: 'streaming: flat latency and memory', measured: 'streaming not run', met: null },
  );
  out.push(memoryGoal(o.overall, o.lateLabel));
  return out;
}

function memoryGoal(overall: readonly PolicyScore[], lateLabel: string): GoalResult {
  const goal = `streaming or the default (${DEFAULT_CACHE_POLICY}): memory-fact accuracy in ${lateLabel} >= window + 10 points`;
  const acc = (p: string): number => {
    const m = overall.find((x) => x.policy === p)?.late.memory;
    return m ? 100 * factAccuracy(memoryTotal(m)) : NaN;
  };
  const w = acc('window');
  const heads = [...new Set(['streaming', DEFAULT_CACHE_POLICY])].map((p) => [p, acc(p)] as const).filter(([, a]) => !Number.isNaN(a));
  if (Number.isNaN(w) || heads.length === 0) return { goal, measured: 'no memory facts stated (or window / streaming not run)', met: null };
  const best = Math.max(...heads.map(([, a]) => a));
  return { goal, measured: `${heads.map(([p, a]) => `${p} ${pts(a)}`).join(', ')}; window ${pts(w)}`, met: best >= w + 10 };
}
