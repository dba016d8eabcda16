/**
 * Bench-only load generator: a StreamRunner that publishes commentary at a set rate when told to.
 * Not a product component (the real runner is the engine's CommentarySession).
 */
import { EventEmitter } from 'node:events';
import type { StreamRunner, StreamSpec, StreamStats } from '../src/server/runner.js';

export class LoadRunner extends EventEmitter implements StreamRunner {
  readonly id: string;
  readonly source: string;
  private timer: NodeJS.Timeout | undefined;
  private t = 0;
  /** Wall time the producer spent inside publish (serialize + hand to every viewer), per message. */
  publishMs: number[] = [];

  constructor(spec: StreamSpec) {
    super();
    this.id = spec.id;
    this.source = spec.source;
  }

  async start(): Promise<void> {}

  async stop(): Promise<void> {
    this.pause();
    this.emit('event', { type: 'end', stream: this.id });
  }

  /** Publishes `ratePerSec` commentary messages per second with `textBytes` of text each. */
  play(ratePerSec: number, textBytes: number): void {
    this.pause();
    const text = 'x'.repeat(textBytes);
    this.timer = setInterval(() => {
      const t = this.t++;
      const t0 = performance.now();
      this.emit('event', { type: 'commentary', stream: this.id, start: t, end: t + 1, text, tokens: 20, latencyMs: 50 });
      this.publishMs.push(performance.now() - t0);
    }, 1000 / ratePerSec);
  }

  pause(): void {
    clearInterval(this.timer);
  }

  stats(): StreamStats {
    return { state: 'live', time: this.t, ingestFps: 2, drops: 0, lagSec: 0, stepLatencyMs: 50, cacheBytes: 0, skippedSeconds: 0 };
  }
}
