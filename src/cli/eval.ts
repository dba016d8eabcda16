/** `sightline eval ...`: reproducible measurements. `eval commentary` scores a commentary model on held-out matches. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { evaluateCommentary, type CommentaryEvalResult } from '../../eval/commentary-run.js';
import type { CommentaryMetrics } from '../../eval/commentary-metrics.js';
import { MEMORY_DEFINITION, MEMORY_HEADER, memoryRow } from '../../eval/memory-report.js';
import { addMemory, zeroMemory, type MemoryCounts } from '../../eval/memory-metrics.js';
import type { WorldVersion } from '../synth/index.js';
import { defaultModelDir } from '../model/default-model.js';
import { CACHE_POLICIES, DEFAULT_CACHE_POLICY, type CachePolicyName } from '../cache/index.js';
import { cachePolicyName, positiveInteger, probability, worldVersion } from './options.js';
import { registerEvalStreams } from './eval-streams.js';
import { registerRetrievalEval } from './eval-retrieval.js';
import { registerOodEval } from './eval-ood.js';

/** "300000-300004" or "300000,300003" -> seeds. */
export function seedList(value: string): number[] {
  const range = /^(\d+)-(\d+)$/.exec(value);
  const seeds = range
    ? Array.from({ length: Number(range[2]) - Number(range[1]) + 1 }, (_, i) => Number(range[1]) + i)
    : value.split(',').map((s) => Number(s.trim()));
  if (seeds.length === 0 || seeds.some((s) => !Number.isInteger(s) || s < 0)) throw new InvalidArgumentError(`expected seeds like 300000-300004 or 1,2,3, got "${value}"`);
  return seeds;
}

const sum = (counts: readonly MemoryCounts[]): MemoryCounts => counts.reduce(addMemory, zeroMemory());

const pct = (x: number): string => (Number.isNaN(x) ? 'n/a' : (100 * x).toFixed(1));

function metricsRow(name: string, m: CommentaryMetrics): string {
  return `| ${name} | ${pct(m.eventRecall)} | ${pct(m.eventPrecision)} | ${pct(m.silenceAccuracy)} | ${pct(m.goalRecall)} | ${pct(m.scoreCorrectness)} |`;
}

export function commentaryReport(r: CommentaryEvalResult, o: { model: string; seconds: number }): string {
  const c = r.counts;
  const { silenceThreshold, endThreshold } = r.decoding;
  return [
    `# Commentary evaluation`,
    '',
    `Model \`${o.model}\`; ${r.matches.length} held-out matches of ${o.seconds} s, world version ${r.world}, H.264 read through ingest at 2 fps, greedy decoding${silenceThreshold === undefined ? '' : `, silent only when P(silence) >= ${silenceThreshold}`}${endThreshold === undefined ? '' : `, a line ends only when P(end of turn) >= ${endThreshold}`}, KV cache policy ${r.policy}.`,
    `Definitions: eval/commentary-metrics.ts. Percent.`,
    '',
    '| match | event recall | event precision | silence accuracy | goal recall | score correctness |',
    '| --- | --- | --- | --- | --- | --- |',
    ...r.matches.map((m) => metricsRow(`seed ${m.seed}`, m.metrics)),
    metricsRow('**overall**', r.overall),
    '',
    `Counts: ${c.voiced} voiced events (${c.recalled} recalled; type named ${c.typeNamed}, team named ${c.teamNamed}), ${c.spoken} spoken model lines (${c.spokenRight} right), ` +
      `${c.quiet} quiet seconds (${c.quietKept} kept silent), ${c.goals} goals (${c.goalsRecalled} recalled), ${c.scoreClaims} score claims (${c.scoreClaimsRight} right).`,
    '',
    'Voiced events by kind, all matches (unanswered: no spoken line at s or s + 1):',
    '',
    '| kind | voiced | recalled | type named | team named | unanswered |',
    '| --- | --- | --- | --- | --- | --- |',
    ...Object.entries(r.byKind)
      .sort(([ka, a], [kb, b]) => b.voiced - a.voiced || ka.localeCompare(kb))
      .map(([kind, o]) => `| ${kind} | ${o.voiced} | ${o.recalled} | ${o.typeNamed} | ${o.teamNamed} | ${o.unanswered} |`),
    '',
    `## Memory facts (policy ${r.policy})`,
    '',
    MEMORY_DEFINITION,
    '',
    ...MEMORY_HEADER,
    ...r.memoryByHour.map((c, h) => memoryRow(`hour ${h + 1}`, c)),
    memoryRow('**all**', sum(r.memoryByHour)),
    ...r.matches.map((m) => memoryRow(`seed ${m.seed}`, sum(m.memoryByHour))),
    '',
  ].join('\n');
}

export function registerEval(program: Command): void {
  const evalCmd = program.command('eval').description('reproducible evaluations (reports: markdown + JSON)');
  evalCmd
    .command('commentary')
    .description('score a commentary model on held-out synthetic matches (event recall/precision, silence, goals, score)')
    .option('--model <dir>', 'model folder', defaultModelDir())
    .option('--seeds <list>', 'held-out match seeds (test range 300000-300099)', seedList, seedList('300000-300004'))
    .option('--seconds <n>', 'seconds of each match', positiveInteger, 600)
    .option('--quick', 'two 60-second matches (minutes, for tests)')
    .option('--cache <dir>', 'where rendered matches are kept', '.cache/eval')
    .option('--out <dir>', 'report folder', 'reports')
    .option('--silence-threshold <p>', "speak unless the silence token has at least this probability (default: the model's config, else plain greedy)", probability)
    .option('--end-threshold <p>', "end a line only when the end-of-turn token has at least this probability (default: the model's config, else plain greedy)", probability)
    .option('--policy <name>', `KV cache policy of the sessions: ${CACHE_POLICIES.join('|')}`, cachePolicyName, DEFAULT_CACHE_POLICY)
    .option('--world-version <n>', 'world version of the held-out matches: 1 (scoreboard always on) or 2 (scoreboard at times, memory facts in the commentary)', worldVersion, 1)
    .action(async (o: { model: string; seeds: number[]; seconds: number; quick?: boolean; cache: string; out: string; silenceThreshold?: number; endThreshold?: number; policy: CachePolicyName; worldVersion: WorldVersion }) => {
      const seeds = o.quick ? o.seeds.slice(0, 2) : o.seeds;
      const seconds = o.quick ? 60 : o.seconds;
      const t0 = Date.now();
      const result = await evaluateCommentary({
        modelDir: o.model,
        seeds,
        seconds,
        cacheDir: o.cache,
        silenceThreshold: o.silenceThreshold,
        endThreshold: o.endThreshold,
        policy: o.policy,
        world: o.worldVersion,
        onMatchDone: (seed, m) => process.stderr.write(`seed ${seed}: recall ${pct(m.eventRecall)} precision ${pct(m.eventPrecision)} silence ${pct(m.silenceAccuracy)} (${((Date.now() - t0) / 1000).toFixed(0)} s)\n`),
      });
      mkdirSync(o.out, { recursive: true });
      const report = commentaryReport(result, { model: o.model, seconds });
      writeFileSync(join(o.out, 'commentary.md'), report);
      writeFileSync(join(o.out, 'commentary.json'), JSON.stringify({ model: o.model, seconds, decoding: result.decoding, policy: result.policy, world: result.world, overall: result.overall, counts: result.counts, byKind: result.byKind, memoryByHour: result.memoryByHour, matches: result.matches }, null, 1));
      process.stdout.write(report);
    });
  registerEvalStreams(evalCmd);
  registerRetrievalEval(evalCmd, seedList);
  registerOodEval(evalCmd, seedList);
}
