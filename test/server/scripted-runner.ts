/**
 * Test double for the engine (tests only, never shipped): a StreamRunner that emits one scripted
 * second per `intervalMs` of wall time: a FrameChunk of small synthetic frames, a status event and
 * a commentary event, then `end` after `seconds` seconds (or when stopped).
 */
import { EventEmitter } from 'node:events';
import type { FrameChunk } from '../../src/ingest/types.js';
import type { StreamFactory, StreamRunner, StreamSpec, StreamStats } from '../../src/server/runner.js';
import type { StreamModel } from '../../src/server/schemas.js';
import type { SessionEvent } from '../../src/stream/events.js';

export interface ScriptOptions {
  /** Wall time per stream second (default 100 ms). */
  intervalMs?: number;
  /** Stop with `end` after this many seconds (default: run until stopped). */
  seconds?: number;
  /** Commentary text for second t. */
  text?: (t: number) => string;
  /** Frame size in pixels (default 32). */
  size?: number;
  /** start() rejects with this error. */
  failStart?: Error;
  /** What runner.model() answers (StreamInfo.model); absent: the runner has no model() at all. */
  model?: StreamModel;
}

export class ScriptedRunner extends EventEmitter implements StreamRunner {
  readonly id: string;
  readonly source: string;
  readonly prompts: string[] = [];
  private readonly resumed: boolean;
  private timer: NodeJS.Timeout | undefined;
  private t = 0;
  private ended = false;
  private readonly fps: number;

  constructor(
    spec: StreamSpec,
    private readonly script: ScriptOptions,
  ) {
    super();
    this.id = spec.id;
    this.source = spec.source;
    this.fps = Math.max(1, Math.round(spec.fps));
    this.t = spec.resume?.endSec ?? 0; // a resumed stream continues its clock
    if (spec.prompt) this.prompts.push(spec.prompt);
    this.resumed = spec.resume !== undefined;
  }

  async start(): Promise<void> {
    if (this.script.failStart) throw this.script.failStart;
    if (this.resumed) this.emit('event', { type: 'status', stream: this.id, ...this.stats(), resumed: true } satisfies SessionEvent);
    this.timer = setInterval(() => this.tick(), this.script.intervalMs ?? 100);
  }

  async stop(): Promise<void> {
    this.finish();
  }

  setPrompt(prompt: string): void {
    this.prompts.push(prompt);
  }

  model(): StreamModel | undefined {
    return this.script.model;
  }

  stats(): StreamStats {
    return { state: this.ended ? 'ended' : 'live', time: this.t, ingestFps: this.fps, drops: 0, lagSec: 0.1, stepLatencyMs: 12, cacheBytes: 1024 * this.t, skippedSeconds: 0 };
  }

  /** Publishes one scripted event directly (tests of ordering/slow consumers). */
  emitEvent(event: SessionEvent): void {
    this.emit('event', event);
  }

  private tick(): void {
    const t = this.t++;
    this.emit('chunk', this.chunk(t));
    this.emit('event', { type: 'status', stream: this.id, ...this.stats(), time: t + 1 } satisfies SessionEvent);
    const text = this.script.text ? this.script.text(t) : `second ${t}: the ball moves`;
    this.emit('event', { type: 'commentary', stream: this.id, start: t, end: t + 1, text, tokens: 5, latencyMs: 12 } satisfies SessionEvent);
    if (this.script.seconds !== undefined && this.t >= this.script.seconds) this.finish();
  }

  private chunk(t: number): FrameChunk {
    const size = this.script.size ?? 32;
    const frames = [];
    for (let i = 0; i < this.fps; i++) {
      const rgb = new Uint8Array(size * size * 3);
      const bar = ((t * this.fps + i) * 4) % size;
      for (let y = 0; y < size; y++) {
        for (let x = 0; x < size; x++) {
          const o = (y * size + x) * 3;
          const on = Math.abs(x - bar) < 3;
          rgb[o] = on ? 255 : 20;
          rgb[o + 1] = on ? 255 : 90;
          rgb[o + 2] = on ? 0 : 40;
        }
      }
      frames.push({ ptsSec: t + i / this.fps, width: size, height: size, rgb });
    }
    return { startSec: t, frames, dropped: 0 };
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    clearInterval(this.timer);
    this.emit('event', { type: 'end', stream: this.id } satisfies SessionEvent);
  }
}

/** A factory that records every call (security tests assert it was never called). */
export function scriptedFactory(script: ScriptOptions = {}): { factory: StreamFactory; calls: StreamSpec[]; runners: ScriptedRunner[] } {
  const calls: StreamSpec[] = [];
  const runners: ScriptedRunner[] = [];
  const factory: StreamFactory = (spec) => {
    calls.push(spec);
    const runner = new ScriptedRunner(spec, script);
    runners.push(runner);
    return runner;
  };
  return { factory, calls, runners };
}
