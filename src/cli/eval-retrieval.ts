/** `sightline eval retrieval`: text-video retrieval of the shipped (or given) models on the held-out set. */
import { packagePath } from '../package-root.js';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { HELD_OUT_RENDER, HELD_OUT_SEEDS } from '../../eval/retrieval-data.js';
import { evaluateRetrieval, type RetrievalProgress } from '../../eval/retrieval-run.js';
import { readTrainingReference, writeRetrievalReport } from '../../eval/retrieval-report.js';
import type { CaptionVersion } from '../synth/index.js';
import { captionVersion, positiveInteger } from './options.js';

/**
 * The shipped Prompt-Switch model. Its mean-pooling baseline left models/ (size budget): for the ablation,
 * restore it (scripts/restore-model.sh sightline-retrieval-meanpool-v1) and pass both, Prompt Switch first:
 * the report's margin is first minus second.
 */
const DEFAULT_MODELS = [packagePath('models', 'sightline-retrieval-v1')];
/** The training run's own metrics (train/retrieval), where the checkout has them (not in an npm install). */
const TRAINING_REPORT = packagePath('train', 'logs', 'retrieval-v1', 'retrieval-report.json');
const TEST_PAIRS = 1000;

/** The model card's held-out seeds for a caption version. */
function testSeeds(version: CaptionVersion): number[] {
  const [lo, hi] = HELD_OUT_SEEDS[version];
  return Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
}

interface Flags {
  models: string[];
  seeds?: number[];
  captionVersion: CaptionVersion;
  pairs: number;
  quick?: boolean;
  cache: string;
  out: string;
  threads: number;
  reference: string;
}

/** A cli-progress bar on a terminal; otherwise a line per match stage (logs stay readable). */
function progress(): { update(p: RetrievalProgress): void; stop(): void } {
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      { stream: process.stderr, format: 'eval retrieval [{bar}] {value}/{total} clips | {stage} | ETA {eta_formatted}', etaBuffer: 120, fps: 5 },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update: (p) => {
        const stage = p.seed === undefined ? p.stage : `${p.stage} seed ${p.seed}`;
        if (!started) bar.start(p.total, p.done, { stage });
        started = true;
        bar.update(p.done, { stage });
      },
      stop: () => bar.stop(),
    };
  }
  let last = '';
  return {
    update: (p) => {
      const line = `eval retrieval: ${p.stage}${p.seed === undefined ? '' : ` seed ${p.seed}`} (${p.done}/${p.total} clips)`;
      if (p.stage !== 'embed' && p.stage !== 'render' && line !== last) process.stderr.write(`${(last = line)}\n`);
    },
    stop: () => undefined,
  };
}

export function registerRetrievalEval(evalCmd: Command, parseSeeds: (value: string) => number[]): void {
  evalCmd
    .command('retrieval')
    .description('text-video retrieval (R@1/5/10, MdR, MnR both ways) of retrieval models on 1,000 held-out synthetic clip/caption pairs')
    .option('--models <dirs>', 'comma-separated retrieval model folders (first minus second is the reported margin)', (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean), DEFAULT_MODELS)
    .option('--seeds <list>', 'held-out match seeds, read in order until the pairs are complete (default: 300000-300016 for caption version 1, 300000-300019 for 2)', parseSeeds)
    .option('--caption-version <n>', 'captions of the pairs: 1 (as every result before issue 22), 2 (the clip told in order, src/synth/captions-v2.ts) or 3 (2 without the minute)', captionVersion, 1)
    .option('--pairs <n>', 'clip/caption pairs (clips with unique captions)', positiveInteger, TEST_PAIRS)
    .option('--quick', 'the first match only: its clips with unique captions (up to 60; about a minute, for tests)')
    .option('--cache <dir>', 'where rendered matches are kept', '.cache/eval')
    .option('--out <dir>', 'report folder', 'reports/retrieval')
    .option('--threads <n>', 'onnxruntime threads per session', positiveInteger, 2)
    .option('--reference <json>', "training-time metrics to compare with (train/retrieval's report)", TRAINING_REPORT)
    .action(async (o: Flags) => {
      const cardSeeds = testSeeds(o.captionVersion);
      const seeds = o.quick ? (o.seeds ?? cardSeeds).slice(0, 1) : (o.seeds ?? cardSeeds);
      const pairs = o.quick ? Math.min(o.pairs, 60) : o.pairs;
      const bar = progress();
      let result;
      try {
        result = await evaluateRetrieval({ modelDirs: o.models, seeds, pairs, requireAllPairs: !o.quick, render: HELD_OUT_RENDER, captionVersion: o.captionVersion, cacheDir: o.cache, threads: o.threads, onProgress: (p) => bar.update(p) });
      } finally {
        bar.stop();
      }
      const comparable = result.pairs.length === TEST_PAIRS && seeds.join() === cardSeeds.join();
      const reference = readTrainingReference(o.reference, o.captionVersion);
      const report = writeRetrievalReport(o.out, result, { seeds, render: HELD_OUT_RENDER, captionVersion: o.captionVersion, reference, comparable });
      process.stdout.write(report);
    });
}
