/**
 * Cost over stream time per policy, from the per-second rows: the StreamingVLM efficiency figure.
 * Per minute of video time: median engine step time (ms, measured in the worker), mean KV bytes in use
 * (rows x bytes per row; the store itself is allocated once at its policy's capacity), max process RSS
 * (the whole process: every stream and worker running at that moment, so only a trend per policy when
 * policies run side by side). Flatness: see stream-time.ts flatRanges; met when the late range is within
 * `tolerance` (default 5%, design.md) of the reference range for step p50, KV bytes and RSS.
 */
import type { OutputRow } from './outputs.js';
import type { EvalPolicy } from './run-policy.js';
import { flatRanges, mean, median, type Range } from './stream-time.js';

export interface CostPoint {
  minute: number;
  stepP50Ms: number;
  kvBytes: number;
  rssBytes: number;
  seconds: number;
}

export interface CostSeries {
  policy: EvalPolicy;
  points: CostPoint[];
}

export interface FlatCheck {
  policy: EvalPolicy;
  reference: Range;
  late: Range;
  stepP50Ms: [number, number];
  kvBytes: [number, number];
  rssBytes: [number, number];
  /** late / reference. */
  ratios: { step: number; kv: number; rss: number };
  flat: { step: boolean; kv: boolean; rss: boolean };
}

type Measured = Required<OutputRow> & { response: string };

const measured = (rows: readonly OutputRow[]): Measured[] => rows.filter((r): r is Measured => r.response !== null && r.step_ms !== undefined);

/** One series per policy; rows of several videos of the same policy are pooled per minute. */
export function costSeries(policy: EvalPolicy, runs: readonly (readonly OutputRow[])[]): CostSeries {
  const byMinute = new Map<number, Measured[]>();
  for (const rows of runs) for (const r of measured(rows)) {
    const m = Math.floor(r.start_time / 60);
    const list = byMinute.get(m);
    if (list) list.push(r);
    else byMinute.set(m, [r]);
  }
  const points = [...byMinute]
    .sort((a, b) => a[0] - b[0])
    .map(([minute, rs]) => ({
      minute,
      stepP50Ms: median(rs.map((r) => r.step_ms)),
      kvBytes: mean(rs.map((r) => r.kv_bytes)),
      rssBytes: Math.max(...rs.map((r) => r.rss_bytes)),
      seconds: rs.length,
    }));
  return { policy, points };
}

export function flatCheck(policy: EvalPolicy, runs: readonly (readonly OutputRow[])[], from: number, to: number, tolerance = 0.05): FlatCheck {
  const { reference, late } = flatRanges(from, to);
  const inRange = (r: Range) => runs.flatMap((rows) => measured(rows).filter((x) => x.start_time >= r.from && x.start_time < r.to));
  const ref = inRange(reference);
  const end = inRange(late);
  const step: [number, number] = [median(ref.map((x) => x.step_ms)), median(end.map((x) => x.step_ms))];
  const kv: [number, number] = [Math.max(...ref.map((x) => x.kv_bytes)), Math.max(...end.map((x) => x.kv_bytes))];
  const rss: [number, number] = [Math.max(...ref.map((x) => x.rss_bytes)), Math.max(...end.map((x) => x.rss_bytes))];
  const ratios = { step: step[1] / step[0], kv: kv[1] / kv[0], rss: rss[1] / rss[0] };
  const ok = (x: number) => Number.isFinite(x) && x <= 1 + tolerance;
  return { policy, reference, late, stepP50Ms: step, kvBytes: kv, rssBytes: rss, ratios, flat: { step: ok(ratios.step), kv: ok(ratios.kv), rss: ok(ratios.rss) } };
}
