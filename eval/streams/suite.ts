/**
 * The data an Inf-Streams-style run streams: held-out synthetic matches generated on demand into a cache
 * folder (never committed), or external data in the Inf-Streams layout (a video + `content` rows).
 *
 * Synthetic matches use the test seed range of the commentator card (300000-300099, disjoint from
 * training 100000-100319 and validation 200000-200007), 640x360 H.264 rendered at 4 fps: a multiple of
 * the model's 2 fps, so ingest samples the same instants as from a 25 fps broadcast, at a sixth of the
 * render time (rendering dominates the cost of a fresh 2-hour match).
 */
import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { SightlineError } from '../../src/errors.js';
import { factsFromEvents, type MatchEvent, type MemoryFacts, type WorldVersion } from '../../src/synth/index.js';
import { heldOutMatch } from '../commentary-run.js';
import { loadInfStreams, resolveVideo } from '../inf-streams-data.js';
import type { ContentRow } from '../windows.js';

export const TEST_SEEDS = { first: 300000, last: 300099 } as const;
export const SUITE_RENDER_FPS = 4;

/** One video to stream, with its reference. */
export interface StreamCase {
  /** File-name-safe id, unique in a run: `synth-<seed>` or the external video's name. */
  id: string;
  video: string;
  content: ContentRow[];
  /** Structured truth (synthetic matches only): enables the per-second event judges. */
  events?: MatchEvent[];
  teams?: readonly [string, string];
  /** What memory knows each second (synthetic matches only): enables the memory-fact metric. */
  facts?: MemoryFacts[];
  /** Seconds of video (the stream ends here). */
  endSec: number;
}

export interface SyntheticSuiteOptions {
  cacheDir: string;
  matches: number;
  seconds: number;
  /** First seed (default 300000); matches take consecutive seeds, all inside the test range. */
  firstSeed?: number;
  /** World version of the matches (default 1). */
  world?: WorldVersion;
  signal?: AbortSignal;
  /** Before a match that is not in the cache yet is rendered, then per second rendered. */
  onRender?(seed: number, secondsDone: number): void;
}

export function suiteSeeds(matches: number, firstSeed: number = TEST_SEEDS.first): number[] {
  const seeds = Array.from({ length: matches }, (_, i) => firstSeed + i);
  if (firstSeed < TEST_SEEDS.first || seeds.at(-1)! > TEST_SEEDS.last) {
    throw new SightlineError('bad_input', `held-out seeds must lie in the test range ${TEST_SEEDS.first}-${TEST_SEEDS.last}, got ${seeds[0]}-${seeds.at(-1)}`);
  }
  return seeds;
}

/** Renders what is missing (cached by seed, length and fps) and loads each match's truth. */
export async function syntheticSuite(o: SyntheticSuiteOptions): Promise<StreamCase[]> {
  const cases: StreamCase[] = [];
  for (const seed of suiteSeeds(o.matches, o.firstSeed)) {
    const files = await heldOutMatch(o.cacheDir, seed, o.seconds, { fps: SUITE_RENDER_FPS, world: o.world, signal: o.signal, onProgress: (s) => o.onRender?.(seed, s) });
    const content = (JSON.parse(readFileSync(files.truth, 'utf8')) as { content: ContentRow[] }).content;
    const events = readFileSync(files.events, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as MatchEvent);
    const teams = teamsOf(events);
    cases.push({ id: `synth-${seed}`, video: files.video, content, events, teams, facts: factsFromEvents(events, teams, o.seconds), endSec: o.seconds });
  }
  return cases;
}

/** External data: rows `{video, content}` (JSON or JSONL); relative videos are found beside the file. */
export async function externalSuite(dataFile: string): Promise<StreamCase[]> {
  const rows = await loadInfStreams(dataFile);
  const used = new Set<string>();
  return rows.map((row, i) => {
    const video = resolveVideo(dataFile, row);
    let id = basename(video, extname(video)).replace(/[^A-Za-z0-9._-]/g, '_') || `video-${i + 1}`;
    if (used.has(id)) id = `${id}-${i + 1}`;
    used.add(id);
    const endSec = Math.ceil(Math.max(0, ...row.content.map((r) => r[1])));
    if (endSec === 0) throw new SightlineError('bad_input', `${dataFile}: row ${i + 1}: content is empty, nothing to score`);
    return { id, video, content: [...row.content], endSec };
  });
}

/** The reference's non-silent lines that end at or before t0, oldest first: the previous text at t0. */
export function previousTextBefore(content: readonly ContentRow[], t0: number): string[] {
  return content.filter(([, end, text]) => end <= t0 && !/^\s*(\.\.\.|…)?\s*$/.test(text)).map(([, , text]) => text);
}

/** [team 0, team 1] in the world's order, from the events' teamIndex. */
export function teamsOf(events: readonly MatchEvent[]): readonly [string, string] {
  const names: [string, string] = ['', ''];
  for (const e of events) if (!names[e.teamIndex]) names[e.teamIndex] = e.team;
  return names;
}

/**
 * Default number of 2-hour matches of `eval streams`: what this project's 2-core machine evaluates with
 * the four default policies in about two hours (measured; docs/evaluation.md).
 */
export const DEFAULT_SUITE_MATCHES = 12;
