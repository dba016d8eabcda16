import { Command, InvalidArgumentError, Option } from 'commander';
import cliProgress from 'cli-progress';
import { SightlineError } from '../errors.js';
import { streamLive, writeMatch, type CaptionVersion, type RunResult, type WorldVersion } from '../synth/index.js';
import { captionVersion, nonNegativeInteger, positiveInteger, positiveNumber, worldVersion } from './options.js';

interface SynthFlags {
  seed: number;
  seconds?: number;
  out?: string;
  format?: 'mp4' | 'rgb24';
  truth?: string;
  events?: string;
  captions?: string;
  facts?: string;
  live?: string;
  width: number;
  height: number;
  fps: number;
  clipSeconds: number;
  halfSeconds: number;
  startScore?: [number, number];
  worldVersion: WorldVersion;
  captionVersion: CaptionVersion;
}

/** Even sizes only: libx264 with yuv420p needs them, and raw consumers are simpler for it. */
function evenSize(value: string): number {
  const n = positiveInteger(value);
  if (n % 2 !== 0 || n < 16) throw new InvalidArgumentError(`expected an even number of pixels >= 16, got "${value}"`);
  return n;
}

/** "11-9" -> [11, 9]: the score on the board at the start. */
function scorePair(value: string): [number, number] {
  const m = /^(\d{1,2})-(\d{1,2})$/.exec(value);
  if (!m) throw new InvalidArgumentError(`expected two scores of 0-99 like 11-9, got "${value}"`);
  return [Number(m[1]), Number(m[2])];
}

/** Progress bar with ETA on stderr, only for file renders of more than a few seconds on a terminal. */
function progressBar(totalSec: number): { update(s: number): void; stop(): void } | undefined {
  if (!process.stderr.isTTY || totalSec < 10) return undefined;
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: 'synth [{bar}] {percentage}% | {value}/{total} s of video | ETA {eta_formatted}', etaBuffer: 20 },
    cliProgress.Presets.shades_classic,
  );
  bar.start(totalSec, 0);
  return { update: (s) => bar.update(s), stop: () => bar.stop() };
}

async function synth(flags: SynthFlags): Promise<void> {
  if (!flags.out && !flags.live) throw new SightlineError('bad_input', 'synth needs --out <file> or --live <ffmpeg-url>');
  if (flags.out && flags.live) throw new SightlineError('bad_input', 'synth takes either --out or --live, not both');
  if (flags.out && flags.seconds === undefined) throw new SightlineError('bad_input', 'synth --out needs --seconds <n>');
  const common = {
    seed: flags.seed,
    widthPx: flags.width,
    heightPx: flags.height,
    fps: flags.fps,
    clipSeconds: flags.clipSeconds,
    halfSeconds: flags.halfSeconds,
    startScore: flags.startScore,
    world: flags.worldVersion,
    captionVersion: flags.captionVersion,
    truthPath: flags.truth,
    eventsPath: flags.events,
    captionsPath: flags.captions,
    factsPath: flags.facts,
  };
  // SIGINT/SIGTERM stop between frames; ffmpeg then gets end-of-input and exits with us.
  const abort = new AbortController();
  const stop = (): void => abort.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  let result: RunResult;
  if (flags.live) {
    result = await streamLive({ ...common, url: flags.live, seconds: flags.seconds, signal: abort.signal });
    process.stderr.write(`synth: streamed ${result.seconds} s to ${flags.live}\n`);
    return;
  }
  const bar = progressBar(flags.seconds!);
  try {
    result = await writeMatch({ ...common, seconds: flags.seconds!, out: flags.out!, format: flags.format, signal: abort.signal, onProgress: (s) => bar?.update(s) });
  } finally {
    bar?.stop();
  }
  if (result.aborted) throw new SightlineError('bad_input', `synth interrupted after ${result.seconds} s; ${flags.out} holds what was rendered`);
}

export function registerSynth(program: Command): void {
  program
    .command('synth')
    .description('render a synthetic broadcast match (deterministic from --seed) to a file or a live ffmpeg URL, with truth files')
    .option('--seed <n>', 'match seed', nonNegativeInteger, 1)
    .option('--seconds <n>', 'length of video to render (live: run until killed if omitted)', positiveNumber)
    .option('--out <path>', 'output file: mp4 (via ffmpeg), or raw RGB24 frames for a .rgb name or "-" (stdout)')
    .addOption(new Option('--format <format>', 'output format of --out').choices(['mp4', 'rgb24']))
    .option('--truth <path>', 'per-second commentary transcript (Inf-Streams JSON)')
    .option('--events <path>', 'structured events, one JSON line each')
    .option('--captions <path>', 'clip captions, one JSON line per clip')
    .option('--facts <path>', 'what memory knows each second (score, leader, scorer tallies, shots, ...), one JSON line per second')
    .option('--world-version <n>', 'world version: 1 (scoreboard always on) or 2 (scoreboard at times, commentary states facts only memory gives)', worldVersion, 1)
    .option('--caption-version <n>', 'clip captions: 1 (events, mean position, possession), 2 (the clip told in order, with memory facts about goals) or 3 (2 without the match minute, as search queries read)', captionVersion, 1)
    .option('--live <url>', 'stream in real time to an ffmpeg output URL (udp://, rtmp://, srt://, pipe:1)')
    .option('--width <px>', 'frame width', evenSize, 640)
    .option('--height <px>', 'frame height', evenSize, 360)
    .option('--fps <n>', 'frames per second', positiveNumber, 25)
    .option('--clip-seconds <n>', 'caption clip length', positiveInteger, 10)
    .option('--half-seconds <n>', 'length of each half on the match clock', positiveInteger, 2700)
    .option('--start-score <a-b>', 'score on the board when the video starts, as when joining a match late (e.g. 11-9)', scorePair)
    .action(synth);
}
