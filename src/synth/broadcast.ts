import { WORLD_HZ } from './pitch.js';
import { FrameRenderer } from './render.js';
import { MatchTimeline, type TimelineOptions, type TruthSinks } from './timeline.js';

export interface BroadcastOptions extends Omit<TimelineOptions, 'aspect'> {
  /** Frame size in pixels. Default 640x360. */
  widthPx?: number;
  heightPx?: number;
  /** Output frame rate. Default 25. The world always runs at 25 Hz; other rates sample it. */
  fps?: number;
}

/**
 * A match as a broadcast: frames on demand plus truth through the sinks. Frames must be requested in
 * increasing order (the world only moves forward); frame i shows time i / fps.
 */
export class SyntheticBroadcast {
  readonly timeline: MatchTimeline;
  readonly renderer: FrameRenderer;
  readonly fps: number;

  constructor(seed: number, options: BroadcastOptions = {}, sinks: TruthSinks = {}) {
    const widthPx = options.widthPx ?? 640;
    const heightPx = options.heightPx ?? 360;
    this.fps = options.fps ?? 25;
    this.renderer = new FrameRenderer(widthPx, heightPx);
    this.timeline = new MatchTimeline(seed, { ...options, aspect: widthPx / heightPx }, sinks);
  }

  get frameBytes(): number {
    return this.renderer.frameBytes;
  }

  /** Renders frame `index` into `out` (frameBytes long, packed RGB24). */
  renderFrame(index: number, out: Uint8Array): void {
    this.timeline.advanceToTick(Math.round((index / this.fps) * WORLD_HZ));
    this.renderer.render(this.timeline.match, this.timeline.camera.state, out, this.timeline.scoreboardVisible);
  }

  /** Flushes truth up to `seconds` of video (call once, after the last frame). */
  finish(seconds: number): void {
    this.timeline.finish(seconds);
  }
}
