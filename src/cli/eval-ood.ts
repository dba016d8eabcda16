/**
 * `sightline eval ood`: fits and measures a commentator's out-of-domain signal (eval/ood-calibration.ts) and,
 * with --write, stores it as the model folder's ood.json. The other footage is made here with ffmpeg
 * (test sources, altered matches), since only the CLI may open ffmpeg directly besides ingest.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { heldOutMatch } from '../../eval/commentary-run.js';
import { chooseThreshold, FrameCovariance, gateShare, VisionReader } from '../../eval/ood-calibration.js';
import { SightlineError } from '../errors.js';
import { ffmpegPath } from '../ingest/ffmpeg-binary.js';
import { defaultModelDir } from '../model/default-model.js';
import { OOD_FILE, type OodStats } from '../model/ood.js';
import { positiveInteger } from './options.js';

/** ffmpeg lavfi sources: pictures that are not a football broadcast. */
const TEST_SOURCES: Record<string, string> = {
  testsrc2: 'testsrc2=size=640x360:rate=25',
  testsrc: 'testsrc=size=640x360:rate=25',
  smptebars: 'smptebars=size=640x360:rate=25',
  rgbtestsrc: 'rgbtestsrc=size=640x360:rate=25',
  mandelbrot: 'mandelbrot=size=640x360:rate=25',
  life: 'life=size=640x360:rate=25:mold=10:ratio=0.3:death_color=#202020:life_color=#e0e0e0',
  cellauto: 'cellauto=size=640x360:rate=25:rule=110',
  noise: 'color=c=gray:size=640x360:rate=25,noise=alls=80:allf=t+u',
  'plain green': 'color=c=0x2e7d32:size=640x360:rate=25',
  'black': 'color=c=black:size=640x360:rate=25',
};

/** A held-out match re-rendered through a filter: the same scene, changed. */
const ALTERED: Record<string, string> = {
  negated: 'negate',
  'hue +180': 'hue=h=180',
  grayscale: 'hue=s=0',
  'upside down': 'vflip',
  'zoomed 3x': 'crop=iw/3:ih/3,scale=640:360',
  'heavy blur': 'boxblur=12:2',
};

function ffmpeg(args: string[], out: string): string {
  if (existsSync(out)) return out;
  const tmp = `${out}.tmp.mp4`;
  const r = spawnSync(ffmpegPath(), ['-hide_banner', '-loglevel', 'error', '-y', ...args, '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', tmp], { encoding: 'utf8' });
  if (r.status !== 0) throw new SightlineError('source_failed', `rendering ${out} failed: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`);
  renameSync(tmp, out);
  return out;
}

const pct = (n: number, d: number): string => (d === 0 ? 'n/a' : `${((100 * n) / d).toFixed(2)}%`);

interface Row {
  name: string;
  outSeconds: number;
  seconds: number;
  firstOutSec?: number;
  median: number;
  /** The highest window mean the gate saw. */
  maxWindow: number;
}

const maxWindowMean = (xs: number[], w: number): number => chooseThreshold([xs], w, 1, 1).validationMax;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

export function registerOodEval(evalCmd: Command, seedList: (v: string) => number[]): void {
  evalCmd
    .command('ood')
    .description("fit a commentator's out-of-domain signal on training-world matches, choose its threshold on validation matches, measure false alarms on held-out matches and detection on other footage")
    .option('--model <dir>', 'model folder', defaultModelDir())
    .option('--fit-seeds <list>', 'training-world matches the statistics are fitted on', seedList, seedList('100320-100325'))
    .option('--val-seeds <list>', 'validation matches the threshold is chosen on', seedList, seedList('200000-200003'))
    .option('--seeds <list>', 'held-out matches the false-alarm rate is measured on', seedList, seedList('300000-300004'))
    .option('--seconds <n>', 'seconds of each fit and validation match', positiveInteger, 300)
    .option('--heldout-seconds <n>', 'seconds of each held-out match', positiveInteger, 600)
    .option('--other-seconds <n>', 'seconds of each other footage', positiveInteger, 60)
    .option('--components <n>', 'principal components of the frame features', positiveInteger, 32)
    .option('--window <n>', 'seconds the gate averages', positiveInteger, 3)
    .option('--margin <x>', 'enter threshold = margin x the highest validation window mean', Number, 1.5)
    .option('--domain <text>', 'what the model knows, one line for users', "Sightline's synthetic 7-a-side football broadcasts only")
    .option('--cache <dir>', 'where rendered videos are kept', '.cache/eval')
    .option('--out <dir>', 'report folder', 'reports/ood')
    .option('--write', "store the fitted statistics and threshold as the model folder's ood.json")
    .action(async (o: { model: string; fitSeeds: number[]; valSeeds: number[]; seeds: number[]; seconds: number; heldoutSeconds: number; otherSeconds: number; window: number; components: number; margin: number; domain: string; cache: string; out: string; write?: boolean }) => {
      if (!(o.margin >= 1)) throw new SightlineError('bad_input', `--margin must be a number >= 1, got ${o.margin}`);
      const t0 = Date.now();
      const log = (m: string): boolean => process.stderr.write(`${m} (${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);
      const reader = await VisionReader.open(o.model);
      const { config } = reader.folder;
      const d = reader.hiddenSize;
      const tokensPerFrame = config.vision.tokensPerFrame;

      const moments = new FrameCovariance(d, tokensPerFrame);
      let fitSeconds = 0;
      for (const seed of o.fitSeeds) {
        const { video } = await heldOutMatch(o.cache, seed, o.seconds);
        fitSeconds += await reader.forEachSecond(video, o.seconds, (v) => moments.add(v));
        log(`fit: seed ${seed}`);
      }
      const base: OodStats = { format: 'sightline-ood', version: 1, domain: o.domain, hiddenSize: d, tokensPerFrame, ...moments.fit(o.components), windowSec: o.window, enter: 1, exit: 1 };

      const validation: number[][] = [];
      for (const seed of o.valSeeds) {
        validation.push(await reader.scores((await heldOutMatch(o.cache, seed, o.seconds)).video, o.seconds, base));
        log(`validation: seed ${seed}`);
      }
      const threshold = chooseThreshold(validation, o.window, o.margin, 0.8);
      const stats: OodStats = { ...base, enter: threshold.enter, exit: threshold.exit };

      const heldOut: Row[] = [];
      const heldOutScores: number[] = [];
      for (const seed of o.seeds) {
        const scores = await reader.scores((await heldOutMatch(o.cache, seed, o.heldoutSeconds)).video, o.heldoutSeconds, stats);
        heldOutScores.push(...scores);
        heldOut.push({ name: `seed ${seed}`, ...gateShare(stats, scores), median: median(scores), maxWindow: maxWindowMean(scores, o.window) });
        log(`held-out: seed ${seed}`);
      }
      const rawFalse = heldOutScores.filter((s) => s >= stats.enter).length;
      const heldOutMax = Math.max(...heldOut.map((r) => r.maxWindow));

      mkdirSync(join(o.cache, 'ood'), { recursive: true });
      const other: Row[] = [];
      const measure = async (name: string, video: string): Promise<void> => {
        const scores = await reader.scores(video, o.otherSeconds, stats);
        other.push({ name, ...gateShare(stats, scores), median: median(scores), maxWindow: maxWindowMean(scores, o.window) });
        log(`other: ${name}`);
      };
      for (const [name, filter] of Object.entries(TEST_SOURCES)) {
        await measure(`lavfi ${name}`, ffmpeg(['-f', 'lavfi', '-i', filter, '-t', String(o.otherSeconds)], join(o.cache, 'ood', `${name.replace(/\W+/g, '-')}-${o.otherSeconds}s.mp4`)));
      }
      const { video: scene } = await heldOutMatch(o.cache, o.seeds[0], o.heldoutSeconds);
      for (const [name, filter] of Object.entries(ALTERED)) {
        await measure(`seed ${o.seeds[0]} ${name}`, ffmpeg(['-i', scene, '-t', String(o.otherSeconds), '-vf', filter, '-an'], join(o.cache, 'ood', `${o.seeds[0]}-${name.replace(/\W+/g, '-')}-${o.otherSeconds}s.mp4`)));
      }

      const heldOutOut = heldOut.reduce((n, r) => n + r.outSeconds, 0);
      const heldOutAll = heldOut.reduce((n, r) => n + r.seconds, 0);
      const lavfi = other.filter((r) => r.name.startsWith('lavfi'));
      const calibration = {
        command: `npx sightline eval ood --model ${o.model} --fit-seeds ${o.fitSeeds[0]}-${o.fitSeeds.at(-1)} --val-seeds ${o.valSeeds[0]}-${o.valSeeds.at(-1)} --seeds ${o.seeds[0]}-${o.seeds.at(-1)} --seconds ${o.seconds} --heldout-seconds ${o.heldoutSeconds} --components ${o.components} --window ${o.window} --margin ${o.margin}`,
        fitSeeds: `${o.fitSeeds[0]}-${o.fitSeeds.at(-1)}`,
        fitSeconds,
        validationSeeds: `${o.valSeeds[0]}-${o.valSeeds.at(-1)}`,
        validationMaxWindowMean: round(threshold.validationMax),
        margin: o.margin,
        heldOutSeeds: `${o.seeds[0]}-${o.seeds.at(-1)}`,
        heldOutFalseAlarmSeconds: heldOutOut,
        heldOutSeconds: heldOutAll,
        heldOutMaxWindowMean: round(heldOutMax),
        lavfiDetectedSeconds: lavfi.reduce((n, r) => n + r.outSeconds, 0),
        lavfiSeconds: lavfi.reduce((n, r) => n + r.seconds, 0),
      };
      const report = [
        `# Out-of-domain signal: ${config.name}`,
        '',
        `Command: \`${calibration.command}\`${o.write ? ' --write' : ''}`,
        '',
        `Score of a second (src/model/ood.ts): the mean over its frames of the squared Mahalanobis distance (per dimension) of the frame's features`,
        `(mean and deviation of each of the ${d} visual-token features over the frame's ${tokensPerFrame} tokens) under a probabilistic PCA with ${o.components} components,`,
        `fitted on ${fitSeconds} seconds of training-world matches (seeds ${calibration.fitSeeds}, ${o.seconds} s each).`,
        `Gate: the mean of the last ${o.window} seconds enters \`out_of_domain\` at >= **${stats.enter}** and leaves below ${stats.exit};`,
        `the threshold is ${o.margin} x the highest ${o.window}-second mean on validation matches ${calibration.validationSeeds} (${round(threshold.validationMax)}).`,
        `All video is H.264 read through ingest at the model's size and 2 fps, as a live stream is.`,
        '',
        `## False alarms on held-out matches (${calibration.heldOutSeeds}, ${o.heldoutSeconds} s each)`,
        '',
        `**${heldOutOut} of ${heldOutAll} seconds out of domain (${pct(heldOutOut, heldOutAll)})**; single seconds at or above the threshold, before smoothing: ${rawFalse} (${pct(rawFalse, heldOutAll)}).`,
        `The highest ${o.window}-second mean on these matches was ${heldOutMax.toFixed(2)} (threshold ${stats.enter}).`,
        '',
        `| match | seconds out of domain | seconds | share | median score | highest ${o.window}-s mean |`,
        '| --- | --- | --- | --- | --- | --- |',
        ...heldOut.map((r) => `| ${r.name} | ${r.outSeconds} | ${r.seconds} | ${pct(r.outSeconds, r.seconds)} | ${r.median.toFixed(2)} | ${r.maxWindow.toFixed(2)} |`),
        '',
        `## Detection on other footage (${o.otherSeconds} s each, from the stream's first second)`,
        '',
        `ffmpeg test sources: **${calibration.lavfiDetectedSeconds} of ${calibration.lavfiSeconds} seconds out of domain (${pct(calibration.lavfiDetectedSeconds, calibration.lavfiSeconds)})**.`,
        `Altered matches are held-out seed ${o.seeds[0]}'s first ${o.otherSeconds} s through an ffmpeg filter: some are still football, so a low share there is a fact about the signal, not a goal.`,
        '',
        '| footage | seconds out of domain | seconds | share | first second out | median score |',
        '| --- | --- | --- | --- | --- | --- |',
        ...other.map((r) => `| ${r.name} | ${r.outSeconds} | ${r.seconds} | ${pct(r.outSeconds, r.seconds)} | ${r.firstOutSec ?? '-'} | ${r.median.toFixed(2)} |`),
        '',
      ].join('\n');
      mkdirSync(o.out, { recursive: true });
      writeFileSync(join(o.out, 'ood.md'), report);
      writeFileSync(join(o.out, 'ood.json'), JSON.stringify({ threshold: { enter: stats.enter, exit: stats.exit, windowSec: o.window }, calibration, heldOut, other }, null, 1));
      if (o.write) {
        const path = join(o.model, OOD_FILE);
        writeFileSync(`${path}.tmp`, JSON.stringify({ ...stats, calibration }) + '\n');
        renameSync(`${path}.tmp`, path);
        log(`wrote ${path}`);
      }
      process.stdout.write(report);
    });
}

const round = (x: number): number => Number(x.toPrecision(4));
