/**
 * Synthetic broadcast world: a procedural 7-a-side football match that looks like a TV broadcast,
 * deterministic from a seed, with per-second truth. Used as the demo source, training data and
 * evaluation data. Depends on no model and no transport.
 *
 * Typical uses:
 *   const b = createMatch(7, { widthPx: 224, heightPx: 224, fps: 2 }, { onSecond: (row) => ... });
 *   for (const frame of frames(7, { seconds: 60 })) consume(frame.rgb);   // buffer is reused
 *   await writeMatch({ seed: 7, seconds: 180, out: 'match.mp4', truthPath: 'truth.json' });
 *   await streamLive({ seed: 7, url: 'udp://127.0.0.1:5000', signal });
 */
import { SyntheticBroadcast, type BroadcastOptions } from './broadcast.js';
import { MatchTimeline, type TimelineOptions, type TruthSinks } from './timeline.js';
import { WORLD_HZ } from './pitch.js';
import type { ClipCaption, MatchEvent, TranscriptRow } from './types.js';
import type { MemoryFacts } from './memory.js';

export { SyntheticBroadcast, type BroadcastOptions } from './broadcast.js';
export { MatchTimeline, type TimelineOptions, type TruthSinks } from './timeline.js';
export { Match, type MatchOptions } from './match.js';
export { SILENCE, TEMPLATES, PRIORITY, headlineEvent, isWorthSaying, type Ctx } from './commentary.js';
export { KIT_PALETTE, type Kit, type Rgb } from './teams.js';
export { PITCH, PLAYERS_PER_TEAM, WORLD_HZ } from './pitch.js';
export { Rng } from './rng.js';
export { writeMatch, streamLive, isRawOutput, FRAMES_IN_FLIGHT, type WriteMatchOptions, type StreamLiveOptions, type PaceClock, type RunResult } from './output.js';
export type { MatchEvent, EventType, TranscriptRow, ClipCaption, WorldVersion, CaptionVersion } from './types.js';
export { WORLD_VERSIONS, CAPTION_VERSIONS } from './types.js';
export { OrderedCaptioner, tellStory, phases, inOrder, type ClipStory, type Beat } from './captions-v2.js';
export type { SecondSummary } from './captions.js';
export { MatchMemory, factsFromEvents, type MemoryFacts } from './memory.js';
export { MEMORY_TEMPLATES, FACT_KINDS, type FactKind } from './memory-lines.js';
export { SCOREBOARD_TIMES } from './scoreboard-schedule.js';

/** A match you pull frames from in order (`renderFrame(i, out)`); truth arrives through `sinks`. */
export function createMatch(seed: number, options: BroadcastOptions = {}, sinks: TruthSinks = {}): SyntheticBroadcast {
  return new SyntheticBroadcast(seed, options, sinks);
}

export interface Frame {
  index: number;
  /** Presentation time in seconds: index / fps. */
  tSec: number;
  /** Packed RGB24, widthPx * heightPx * 3 bytes. Reused for the next frame: copy it to keep it. */
  rgb: Uint8Array;
}

/** Frames of a match in order; endless unless `seconds` is given. Truth through `sinks` as it happens. */
export function* frames(seed: number, options: BroadcastOptions & { seconds?: number } = {}, sinks: TruthSinks = {}): Generator<Frame> {
  const b = new SyntheticBroadcast(seed, options, sinks);
  const rgb = new Uint8Array(b.frameBytes);
  const total = options.seconds === undefined ? Infinity : Math.round(options.seconds * b.fps);
  for (let index = 0; index < total; index++) {
    b.renderFrame(index, rgb);
    yield { index, tSec: index / b.fps, rgb };
  }
  if (options.seconds !== undefined) b.finish(options.seconds);
}

export interface MatchTruth {
  events: MatchEvent[];
  /** What memory knows at the end of each second. */
  facts: MemoryFacts[];
  transcript: { video: string; content: TranscriptRow[] };
  captions: ClipCaption[];
}

/**
 * Truth only, no pixels (thousands of times faster than rendering): events, transcript and captions of
 * the first `seconds`, in memory. For long matches use MatchTimeline with sinks instead.
 */
export function simulateTruth(seed: number, seconds: number, options: TimelineOptions = {}): MatchTruth {
  const truth: MatchTruth = { events: [], facts: [], transcript: { video: options.video ?? `synth-${seed}`, content: [] }, captions: [] };
  const timeline = new MatchTimeline(seed, options, {
    onEvent: (e) => truth.events.push(e),
    onSecond: (row) => truth.transcript.content.push(row),
    onClip: (c) => truth.captions.push(c),
    onFacts: (f) => truth.facts.push(f),
  });
  timeline.advanceToTick(Math.round(seconds * WORLD_HZ));
  timeline.finish(seconds);
  return truth;
}
