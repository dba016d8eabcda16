/** Markdown reports and SVG plots of `eval streams` and `eval efficiency`. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import type { CostSeries, FlatCheck } from './efficiency.js';
import type { GoalResult } from './goals.js';
import type { RunSummary } from './outputs.js';
import type { PairScore, PolicyScore, RangeScore, StreamsScore } from './score.js';
import { barChart, lineChart } from './svg.js';
import { MEMORY_DEFINITION, MEMORY_HEADER, memoryRow } from '../memory-report.js';

export interface RunMeta {
  model: string;
  command: string;
  /** What was streamed, in words. */
  data: string;
  t0: number;
  wallSec: number;
  summaries: { caseId: string; summary: RunSummary }[];
}

const pct = (x: number | undefined): string => (x === undefined || Number.isNaN(x) ? 'n/a' : (100 * x).toFixed(1));
const pts = (x: number): string => (Number.isNaN(x) ? 'n/a' : x.toFixed(1));
const mib = (b: number): string => (Number.isFinite(b) ? (b / 2 ** 20).toFixed(2) : 'n/a');
const ms = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');
const clock = (s: number): string => `${Math.floor(s / 60)}:${String(Math.round(s % 60)).padStart(2, '0')}`;

export function machine(): string {
  const c = cpus();
  return `${c.length} x ${c[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, ${process.platform}`;
}

/** Latency, KV bytes and RSS over stream time, one line per policy; returns markdown image lines. */
function costPlots(outDir: string, costs: readonly CostSeries[], markers: { x: number; label: string }[]): string[] {
  const series = (f: (p: CostSeries['points'][number]) => number) => costs.map((c) => ({ name: c.policy, points: c.points.map((p) => [p.minute, f(p)] as const) }));
  const plots = [
    { file: 'latency.svg', title: 'Engine step time per second (median per minute)', y: 'ms per stream second', s: series((p) => p.stepP50Ms) },
    { file: 'kv-bytes.svg', title: 'KV cache in use per stream (mean per minute)', y: 'MiB', s: series((p) => p.kvBytes / 2 ** 20) },
    { file: 'rss.svg', title: 'Process RSS (max per minute)', y: 'MiB', s: series((p) => p.rssBytes / 2 ** 20) },
  ];
  mkdirSync(join(outDir, 'plots'), { recursive: true });
  for (const p of plots) writeFileSync(join(outDir, 'plots', p.file), lineChart({ title: p.title, xLabel: 'stream time (minutes of video)', yLabel: p.y, series: p.s, markers }));
  return plots.map((p) => `![${p.title}](plots/${p.file})`);
}

function costTable(costs: readonly CostSeries[], flats: readonly FlatCheck[]): string[] {
  const lines = ['| policy | step p50 ms (reference / late) | KV MiB in use (reference / late) | RSS MiB max (reference / late) | ratios late / reference (step, KV, RSS) |', '| --- | --- | --- | --- | --- |'];
  for (const f of flats) {
    lines.push(`| ${f.policy} | ${ms(f.stepP50Ms[0])} / ${ms(f.stepP50Ms[1])} | ${mib(f.kvBytes[0])} / ${mib(f.kvBytes[1])} | ${mib(f.rssBytes[0])} / ${mib(f.rssBytes[1])} | ${f.ratios.step.toFixed(3)}, ${f.ratios.kv.toFixed(3)}, ${f.ratios.rss.toFixed(3)} |`);
  }
  const f = flats[0];
  if (f) lines.push('', `Reference range: stream time ${clock(f.reference.from)}-${clock(f.reference.to)}; late range ${clock(f.late.from)}-${clock(f.late.to)} (min:s of video) for ${f.policy}; a capped policy uses the same rule over its own produced part.`);
  void costs;
  return lines;
}

function goalLines(goals: readonly GoalResult[]): string[] {
  return ['| goal | measured | met |', '| --- | --- | --- |', ...goals.map((g) => `| ${g.goal} | ${g.measured} | ${g.met === null ? 'not measured' : g.met ? '**yes**' : '**no**'} |`)];
}

function qualityRow(name: string, p: PolicyScore, events: boolean): string {
  const o = p.overall;
  const m = o.counts;
  const rec = m ? pct(m.recalled / m.voiced) : 'n/a';
  const prec = m ? pct(m.spokenRight / m.spoken) : 'n/a';
  const sil = m ? pct(m.quietKept / m.quiet) : 'n/a';
  const ev = events ? ` ${rec} | ${prec} | ${sil} |` : '';
  return `| ${name} | ${pts(p.early.quality)} | ${pts(p.late.quality)} | ${pts(p.late.quality - p.early.quality)} | ${pts(o.quality)} |${ev} ${pct(o.text.bleu4)} | ${pct(o.text.rougeL)} | ${o.text.ciderD.toFixed(3)} | ${o.seconds} |`;
}

function qualityHeader(events: boolean, early: string, late: string): string[] {
  const ev = events ? ' event recall | event precision | silence accuracy |' : '';
  const evSep = events ? ' --- | --- | --- |' : '';
  return [`| policy | quality ${early} | quality ${late} | change (points) | quality overall |${ev} BLEU-4 | ROUGE-L | CIDEr-D | seconds scored |`, `| --- | --- | --- | --- | --- |${evSep} --- | --- | --- | --- |`];
}

function pairRow(p: PairScore): string {
  return `| ${p.a} vs ${p.b} | ${p.judge} | ${p.winRateA === null ? 'n/a' : `${(100 * p.winRateA).toFixed(1)}%`} | ${p.votesA} | ${p.votesB} | ${p.ties} | ${p.noVote} | ${p.windows} |`;
}

const PAIR_HEADER = ['| pair (first vs second) | judge | first win rate | votes first | votes second | ties | no vote | windows |', '| --- | --- | --- | --- | --- | --- | --- | --- |'];

/** Memory-fact metric per policy: early, late and overall (synthetic matches only). */
function memorySection(score: StreamsScore, early: string, late: string): string[] {
  if (!score.overall.some((p) => p.overall.memory)) return [];
  const rows = score.overall.flatMap((p) => (p.overall.memory ? [memoryRow(`${p.policy}, ${early}`, p.early.memory!), memoryRow(`${p.policy}, ${late}`, p.late.memory!), memoryRow(`**${p.policy}, all**`, p.overall.memory)] : []));
  return ['## Memory facts', '', MEMORY_DEFINITION, '', ...MEMORY_HEADER, ...rows, ''];
}

export function writeStreamsReport(
  outDir: string,
  o: { score: StreamsScore; costs: CostSeries[]; flats: FlatCheck[]; goals: GoalResult[]; meta: RunMeta; bucketSec: number; windowSec: number; earlyLabel: string; lateLabel: string },
): string {
  const { score, meta } = o;
  const events = score.quality === 'event F1';
  mkdirSync(join(outDir, 'plots'), { recursive: true });
  const markers = [{ x: score.split / 60, label: o.lateLabel }];
  const qSeries = score.overall.map((p) => ({ name: p.policy, points: p.buckets.map((b: RangeScore) => [b.from / 60, Number.isNaN(b.quality) ? null : b.quality] as const) }));
  writeFileSync(join(outDir, 'plots', 'quality.svg'), lineChart({ title: `Quality (${score.quality}) per ${o.bucketSec / 60}-minute bucket`, xLabel: 'stream time (minutes of video, bucket start)', yLabel: `${score.quality} x 100`, series: qSeries, markers }));
  const metric = score.pairs.filter((p) => p.judge === 'metrics');
  writeFileSync(join(outDir, 'plots', 'win-rates.svg'), barChart({ title: 'Win rate of streaming (and the shipped default) against each baseline (built-in judge, both orders)', bars: metric.map((p) => ({ label: p.a === 'streaming' ? `vs ${p.b}` : `${p.a} vs ${p.b}`, value: p.winRateA })) }));
  const caps = meta.summaries.filter((s) => s.summary.capSec !== null).map((s) => `${s.caseId}: ${clock(s.summary.capSec!)} (${s.summary.capSec! - s.summary.fromSec} s after t0)`);
  const mismatches = meta.summaries.reduce((n, s) => n + s.summary.resumeMismatches, 0);
  const lines = [
    '# Streams evaluation (Inf-Streams protocol)',
    '',
    `Command: \`${meta.command}\`. Model \`${meta.model}\`. Data: ${meta.data}. Machine: ${machine()}. Wall time ${(meta.wallSec / 60).toFixed(1)} min (this invocation).`,
    '',
    `Protocol: each video is streamed from t0 = ${meta.t0} s with the reference transcript before t0 as previous text, then one continuous stream to the end, through ingest -> CommentarySession -> EnginePool as in the live service, greedy decoding. ` +
      `Policies: ${score.overall.map((p) => `\`${p.policy}\``).join(', ')}. Quality = ${events ? 'event F1 x 100 (per second against the structured truth)' : 'combined text score x 100 (mean of BLEU-4, ROUGE-L, CIDEr-D/10 per window)'}. ` +
      `Text metrics per ${o.windowSec}-s window; buckets of ${o.bucketSec / 60} min of video time; ${o.earlyLabel} = [${meta.t0}, ${score.split}) s, ${o.lateLabel} = [${score.split}, end) s. Definitions: docs/evaluation.md.`,
    '',
    '## Goals',
    '',
    ...goalLines(o.goals),
    '',
    '## Quality, all videos',
    '',
    ...qualityHeader(events, o.earlyLabel, o.lateLabel),
    ...score.overall.map((p) => qualityRow(p.policy, p, events)),
    '',
    caps.length ? `\`full\` reached its cache cap at: ${caps.join('; ')}; its later seconds are not produced and not scored.` : '`full` did not reach its cache cap (or was not run).',
    '',
    '![quality per bucket](plots/quality.svg)',
    '',
    `### Quality per bucket (${score.quality} x 100)`,
    '',
    `| bucket (min) | ${score.overall.map((p) => p.policy).join(' | ')} |`,
    `| --- | ${score.overall.map(() => '---').join(' | ')} |`,
    ...(score.overall[0]?.buckets ?? []).map((b, i) => `| ${clock(b.from)}-${clock(b.to)} | ${score.overall.map((p) => pts(p.buckets[i]?.quality ?? NaN)).join(' | ')} |`),
    '',
    ...memorySection(score, o.earlyLabel, o.lateLabel),
    '## Win rates',
    '',
    ...PAIR_HEADER,
    ...score.pairs.map(pairRow),
    '',
    '![win rates](plots/win-rates.svg)',
    '',
    '## Per video',
    '',
  ];
  for (const c of score.cases) {
    lines.push(`### ${c.caseId}`, '', ...qualityHeader(events, o.earlyLabel, o.lateLabel), ...c.policies.map((p) => qualityRow(p.policy, p, events)), '');
    const cp = score.casePairs.find((x) => x.caseId === c.caseId);
    if (cp?.pairs.length) lines.push(...PAIR_HEADER, ...cp.pairs.map(pairRow), '');
  }
  lines.push('## Cost over stream time', '', 'Engine step time is measured in the engine worker; KV bytes are the rows in use x bytes per row for one stream; RSS is the whole process (all streams running side by side), so it is a trend, not a per-policy figure. `eval efficiency` measures one policy at a time.', '');
  lines.push(...costTable(o.costs, o.flats), '', ...costPlots(outDir, o.costs, markers), '');
  lines.push(`Resume check: ${mismatches} regenerated seconds differed from the saved ones.`, '');
  const md = `${lines.join('\n')}\n`;
  writeFileSync(join(outDir, 'report.md'), md);
  writeFileSync(join(outDir, 'summary.json'), `${JSON.stringify({ meta, goals: o.goals, quality: score.quality, split: score.split, overall: score.overall, pairs: score.pairs, cases: score.cases, casePairs: score.casePairs, flats: o.flats, costs: o.costs }, null, 1)}\n`);
  return md;
}

export function writeEfficiencyReport(outDir: string, o: { costs: CostSeries[]; flats: FlatCheck[]; meta: RunMeta; seconds: number }): string {
  const { meta } = o;
  const caps = meta.summaries.filter((s) => s.summary.capSec !== null).map((s) => `\`${s.summary.policy}\` at ${clock(s.summary.capSec!)}`);
  const lines = [
    '# Efficiency: cost over stream time per policy',
    '',
    `Command: \`${meta.command}\`. Model \`${meta.model}\`. Data: ${meta.data}. Machine: ${machine()}. Wall time ${(meta.wallSec / 60).toFixed(1)} min.`,
    '',
    `Each policy streams ${o.seconds} s alone (one after another), through CommentarySession and the EnginePool as in the live service, greedy decoding. ` +
      'Step time is measured in the engine worker; KV bytes are rows in use x bytes per row; RSS is the process while that policy ran.',
    caps.length ? `Cache cap reached: ${caps.join(', ')} (later seconds not produced).` : '',
    '',
    ...costTable(o.costs, o.flats),
    '',
    ...o.flats.map((f) => `- ${f.policy}: flat step time ${f.flat.step ? 'yes' : 'no'}, flat KV bytes ${f.flat.kv ? 'yes' : 'no'}, flat RSS ${f.flat.rss ? 'yes' : 'no'} (late within 5% of reference).`),
    '',
    ...costPlots(outDir, o.costs, []),
    '',
  ];
  const md = `${lines.join('\n')}\n`;
  writeFileSync(join(outDir, 'efficiency.md'), md);
  writeFileSync(join(outDir, 'efficiency.json'), `${JSON.stringify({ meta, flats: o.flats, costs: o.costs }, null, 1)}\n`);
  return md;
}
