import { BroadcastCamera } from './camera.js';
import type { Captioner, SecondSummary } from './captions.js';
import { createCaptioner } from './captioner.js';
import { Commentator } from './commentary.js';
import { Match, type MatchOptions } from './match.js';
import { MatchMemory, type MemoryFacts } from './memory.js';
import { MemoryCommentator } from './memory-lines.js';
import { WORLD_HZ } from './pitch.js';
import { ScoreboardSchedule } from './scoreboard-schedule.js';
import type { CaptionVersion, ClipCaption, MatchEvent, TranscriptRow, WorldVersion } from './types.js';

/** Where the truth goes as it is produced; each callback sees every item exactly once, in order. */
export interface TruthSinks {
  onEvent?(event: MatchEvent): void;
  onSecond?(row: TranscriptRow, events: readonly MatchEvent[]): void;
  onClip?(clip: ClipCaption): void;
  /** What memory knows at the end of each second (both worlds; world 2's commentary states some of it). */
  onFacts?(facts: MemoryFacts): void;
}

export interface TimelineOptions extends MatchOptions {
  /** Name written in transcript and caption records. Default `synth-<seed>`. */
  video?: string;
  /** Caption clip length in seconds. Default 10. */
  clipSeconds?: number;
  /** Frame aspect ratio the camera frames for. Default 16/9. */
  aspect?: number;
  /** World version (default 1, unchanged since before issue 22; 2: scoreboard at times, memory in the commentary). */
  world?: WorldVersion;
  /** Clip caption version (default 1, unchanged since before issue 22; 2: the clip told in order, captions-v2.ts). */
  captionVersion?: CaptionVersion;
}

/**
 * Drives one match tick by tick and turns it into truth: events as they happen, one commentary row
 * per completed second, one caption per completed clip. Holds at most one clip of summaries, so an
 * endless match runs in constant memory. The camera moves here too (per tick, frame-rate independent).
 */
export class MatchTimeline {
  readonly match: Match;
  readonly camera: BroadcastCamera;
  readonly video: string;
  readonly clipSeconds: number;
  readonly world: WorldVersion;
  readonly captionVersion: CaptionVersion;
  private readonly captioner: Captioner;
  private readonly commentator: Commentator;
  private readonly memory: MatchMemory;
  private readonly memoryLines: MemoryCommentator | undefined;
  private readonly scoreboard: ScoreboardSchedule;
  private scoreboardShown = false;
  private secondEvents: MatchEvent[] = [];
  private ballXSum = 0;
  private holdTicks = [0, 0];
  private clip: SecondSummary[] = [];
  private clipStartSec = 0;

  constructor(seed: number, options: TimelineOptions = {}, private readonly sinks: TruthSinks = {}) {
    this.match = new Match(seed, options);
    this.video = options.video ?? `synth-${seed}`;
    this.clipSeconds = options.clipSeconds ?? 10;
    this.camera = new BroadcastCamera(options.aspect ?? 16 / 9);
    this.commentator = new Commentator(seed, this.match.teamNames);
    this.world = options.world ?? 1;
    this.memory = new MatchMemory(this.match.teamNames, this.match.score);
    this.memoryLines = this.world === 2 ? new MemoryCommentator(seed, this.match.teamNames) : undefined;
    this.scoreboard = new ScoreboardSchedule(this.world);
    this.captionVersion = options.captionVersion ?? 1;
    this.captioner = createCaptioner(this.captionVersion);
  }

  /** Whether the score overlay is on screen at the current tick (always in world 1). */
  get scoreboardVisible(): boolean {
    return this.scoreboard.visible;
  }

  /** Seconds of transcript completed so far. */
  get completedSeconds(): number {
    return Math.floor(this.match.stepIndex / WORLD_HZ);
  }

  /** Steps the world until `ticks` ticks have run (the state then shows time ticks / WORLD_HZ). */
  advanceToTick(ticks: number): void {
    const m = this.match;
    while (m.stepIndex < ticks) {
      const events = m.step();
      this.camera.update(m);
      this.scoreboard.update(m, events);
      this.scoreboardShown ||= this.scoreboard.visible;
      for (const e of events) {
        this.secondEvents.push(e);
        this.sinks.onEvent?.(e);
      }
      this.ballXSum += m.ball.x;
      if (m.ball.mode === 'held') this.holdTicks[m.players[m.ball.holder].team]++;
      if (m.stepIndex % WORLD_HZ === 0) this.closeSecond(m.stepIndex / WORLD_HZ - 1);
    }
  }

  /** Completes truth up to `seconds` (a partial last clip gets its caption too). */
  finish(seconds: number): void {
    this.advanceToTick(Math.round(seconds * WORLD_HZ));
    if (this.clip.length > 0) this.closeClip(this.clipStartSec + this.clip.length);
  }

  private closeSecond(second: number): void {
    const m = this.match;
    const events = this.secondEvents;
    const facts = this.memory.observe(second, events, this.scoreboardShown);
    this.scoreboardShown = false;
    const line = this.commentator.lineFor(events);
    const text = this.memoryLines ? this.memoryLines.extend(line, events, facts) : line;
    this.sinks.onFacts?.(facts);
    this.sinks.onSecond?.([second, second + 1, text], events);
    const [a, b] = this.holdTicks;
    this.clip.push({
      events,
      ballX: this.ballXSum / WORLD_HZ,
      possession: a + b < WORLD_HZ / 4 ? -1 : a >= b ? 0 : 1,
      score: [m.score[0], m.score[1]],
      minute: Math.floor(m.clockSec / 60 - 1e-9) + 1,
      half: m.period,
      facts,
    });
    this.secondEvents = [];
    this.ballXSum = 0;
    this.holdTicks = [0, 0];
    if (this.clip.length >= this.clipSeconds) this.closeClip(second + 1);
  }

  private closeClip(endSec: number): void {
    const caption = this.captioner.caption(this.video, this.clipStartSec, endSec, this.clip, this.match.teamNames);
    this.sinks.onClip?.(caption);
    this.clip = [];
    this.clipStartSec = endSec;
  }
}
