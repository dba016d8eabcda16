/**
 * Held-out commentary evaluation on the synthetic world: each match is rendered and encoded as H.264
 * (cached), read back through the real ingest (ffmpeg, 2 fps, the model's frame size) and commentated by
 * startCommentary (src/stream) as the live service is, with greedy decoding, then scored against the
 * structured truth.
 */
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { basename, join } from 'node:path';
import { DEFAULT_CACHE_POLICY, type CachePolicyName } from '../src/cache/index.js';
import { SightlineError } from '../src/errors.js';
import { EnginePool } from '../src/model/pool.js';
import { startCommentary, type SessionEvent } from '../src/stream/index.js';
import { factsFromEvents, writeMatch, type MatchEvent, type WorldVersion } from '../src/synth/index.js';
import { addCounts, addOutcomes, countCommentary, rates, ZERO_COUNTS, type CommentaryCounts, type CommentaryMetrics, type OutcomesByKind, type Segment } from './commentary-metrics.js';
import { addMemory, countMemory, zeroMemory, type MemoryCounts } from './memory-metrics.js';

export interface CommentaryEvalOptions {
  modelDir: string;
  seeds: number[];
  seconds: number;
  cacheDir: string;
  workers?: number;
  /** Overrides the model's generation.silenceThreshold (the speak/silence decision on probability mass). */
  silenceThreshold?: number;
  /** Overrides the model's generation.endThreshold (the end-of-line decision on probability mass). */
  endThreshold?: number;
  /** KV cache policy of every session (default: the live service's, DEFAULT_CACHE_POLICY). */
  policy?: CachePolicyName;
  /** World version of the held-out matches (default 1). */
  world?: WorldVersion;
  onMatchDone?(seed: number, metrics: CommentaryMetrics): void;
}

export interface MatchResult {
  seed: number;
  counts: CommentaryCounts;
  metrics: CommentaryMetrics;
  byKind: OutcomesByKind;
  /** The memory-fact metric per hour of the match (index 0: [0, 3600) s). */
  memoryByHour: MemoryCounts[];
  segments: Segment[];
}

/** The probability-mass decisions in effect (the options' overrides, else the model's config). */
export interface DecodingThresholds {
  silenceThreshold?: number;
  endThreshold?: number;
}

export interface CommentaryEvalResult {
  decoding: DecodingThresholds;
  policy: CachePolicyName;
  world: WorldVersion;
  matches: MatchResult[];
  overall: CommentaryMetrics;
  counts: CommentaryCounts;
  byKind: OutcomesByKind;
  /** All matches, per hour of match time. */
  memoryByHour: MemoryCounts[];
}

/** Render settings of a held-out match: the broadcast's own defaults (640x360, 25 fps) unless given. */
export interface HeldOutRender {
  fps?: number;
  /** World version (default 1; version 2 files are named `-w2` and come with per-second `.facts.jsonl`). */
  world?: WorldVersion;
  signal?: AbortSignal;
  onProgress?(secondsDone: number): void;
}

/**
 * Renders (once) the H.264 video and truth files of a held-out match into the cache folder. The truth's
 * `video` field names the mp4 beside it, so the folder is also valid Inf-Streams data.
 */
export async function heldOutMatch(cacheDir: string, seed: number, seconds: number, render: HeldOutRender = {}): Promise<{ video: string; truth: string; events: string }> {
  mkdirSync(cacheDir, { recursive: true });
  const world = render.world ?? 1;
  // World 1 keeps its old names, so matches cached before world 2 existed are reused.
  const base = join(cacheDir, `match-${seed}-${seconds}s${render.fps === undefined ? '' : `-${render.fps}fps`}${world === 1 ? '' : `-w${world}`}`);
  const paths = { video: `${base}.mp4`, truth: `${base}.truth.json`, events: `${base}.events.jsonl` };
  if (!existsSync(paths.video)) {
    // Written under temporary names and renamed last, so an interrupted render is never reused.
    const tmp = { video: `${base}.tmp.mp4`, truth: `${base}.tmp.json`, events: `${base}.tmp.jsonl`, facts: `${base}.tmp.facts` };
    const facts = world === 1 ? undefined : tmp.facts;
    const done = await writeMatch({ seed, seconds, fps: render.fps, world, video: basename(paths.video), out: tmp.video, truthPath: tmp.truth, eventsPath: tmp.events, factsPath: facts, signal: render.signal, onProgress: render.onProgress });
    if (done.aborted) throw new SightlineError('bad_input', `rendering of held-out match ${seed} was interrupted`);
    renameSync(tmp.truth, paths.truth);
    renameSync(tmp.events, paths.events);
    if (facts) renameSync(facts, `${base}.facts.jsonl`);
    renameSync(tmp.video, paths.video);
  }
  return paths;
}

/** The memory-fact counts of one match per hour of match time ([0, 3600), [3600, 7200), ...). */
export function memoryByHour(events: MatchEvent[], reference: string[], segments: Segment[], teams: readonly [string, string]): MemoryCounts[] {
  const facts = factsFromEvents(events, teams, reference.length);
  const hours = Math.max(1, Math.ceil(reference.length / 3600));
  return Array.from({ length: hours }, (_, h) => countMemory(facts, reference, segments, teams, h * 3600, Math.min(reference.length, (h + 1) * 3600)));
}

/** Adds per-hour counts, hour by hour. */
export function addByHour(x: MemoryCounts[], y: MemoryCounts[]): MemoryCounts[] {
  return Array.from({ length: Math.max(x.length, y.length) }, (_, h) => addMemory(x[h] ?? zeroMemory(), y[h] ?? zeroMemory()));
}

async function commentate(pool: EnginePool, video: string, id: string, decoding: DecodingThresholds, policy?: CachePolicyName): Promise<Segment[]> {
  const segments: Segment[] = [];
  let failure: string | undefined;
  const commentary = startCommentary(video, pool, {
    id,
    skip: 'none',
    policy,
    sampling: { temperature: 0, ...decoding },
    onEvent: (e: SessionEvent) => {
      if (e.type === 'commentary') segments.push({ start: e.start, text: e.text });
      if (e.type === 'error') failure = e.message;
    },
  });
  await commentary.done;
  if (failure) throw new Error(`evaluation of ${video} failed: ${failure}`);
  return segments;
}

export async function evaluateCommentary(o: CommentaryEvalOptions): Promise<CommentaryEvalResult> {
  const pool = await EnginePool.create({ modelDir: o.modelDir, workers: o.workers ?? 2 });
  const matches: MatchResult[] = [];
  const gen = pool.config.generation;
  const decoding: DecodingThresholds = {
    silenceThreshold: o.silenceThreshold ?? gen.silenceThreshold,
    endThreshold: o.endThreshold ?? gen.endThreshold,
  };
  try {
    const queue = [...o.seeds];
    const runOne = async (): Promise<void> => {
      for (let seed = queue.shift(); seed !== undefined; seed = queue.shift()) {
        const files = await heldOutMatch(o.cacheDir, seed, o.seconds, { world: o.world });
        const segments = await commentate(pool, files.video, `eval-${seed}`, decoding, o.policy);
        const reference = (JSON.parse(readFileSync(files.truth, 'utf8')).content as Array<[number, number, string]>).map((r) => r[2]);
        const events = readFileSync(files.events, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as MatchEvent);
        const teams = teamsOf(events);
        const byKind: OutcomesByKind = {};
        const counts = countCommentary(events, reference, segments, teams, 0, reference.length, byKind);
        const result = { seed, counts, metrics: rates(counts), byKind, memoryByHour: memoryByHour(events, reference, segments, teams), segments };
        matches.push(result);
        o.onMatchDone?.(seed, result.metrics);
      }
    };
    await Promise.all(Array.from({ length: Math.min(o.workers ?? 2, o.seeds.length) }, runOne));
  } finally {
    await pool.destroy();
  }
  matches.sort((a, b) => a.seed - b.seed);
  const counts = matches.reduce((acc, m) => addCounts(acc, m.counts), ZERO_COUNTS);
  const byKind = matches.reduce((acc, m) => addOutcomes(acc, m.byKind), {} as OutcomesByKind);
  const memory = matches.reduce((acc, m) => addByHour(acc, m.memoryByHour), [] as MemoryCounts[]);
  return { decoding, policy: o.policy ?? DEFAULT_CACHE_POLICY, world: o.world ?? 1, matches, overall: rates(counts), counts, byKind, memoryByHour: memory };
}

/** [team 0, team 1] in the world's order, from the events' teamIndex. */
function teamsOf(events: MatchEvent[]): readonly [string, string] {
  const names: [string, string] = ['', ''];
  for (const e of events) if (!names[e.teamIndex]) names[e.teamIndex] = e.team;
  return names;
}
