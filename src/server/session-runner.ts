/**
 * The real StreamRunner: ingest (ffmpeg) -> CommentarySession (src/stream) on the shared EnginePool of
 * the stream's device (DevicePools; resolved in start(), so the factory stays synchronous and a pool that
 * cannot start fails only this stream's creation). Chunks are tapped on their way to the session for the
 * video preview; session events are passed on.
 */
import { EventEmitter } from 'node:events';
import type { CachePolicyName } from '../cache/index.js';
import type { FrameChunk, FrameSource } from '../ingest/types.js';
import type { DevicePools } from '../model/device-pools.js';
import type { SessionEvent, StatusEvent } from '../stream/events.js';
import { openSource } from '../ingest/index.js';
import { CommentarySession } from '../stream/session.js';
import type { StreamFactory, StreamRunner, StreamSpec, StreamStats } from './runner.js';
import type { StreamDevice } from './schemas.js';

export interface SessionRunnerOptions {
  pools: DevicePools;
  policy?: CachePolicyName;
}

const IDLE_STATS: StreamStats = { state: 'starting', time: 0, ingestFps: 0, drops: 0, lagSec: 0, stepLatencyMs: 0, cacheBytes: 0, skippedSeconds: 0 };

class SessionRunner extends EventEmitter implements StreamRunner {
  readonly id: string;
  readonly source: string;
  private frames?: FrameSource;
  private session?: CommentarySession;
  private running?: Promise<void>;
  private lastStatus: StreamStats = IDLE_STATS;
  private engineDevice?: StreamDevice;

  constructor(private readonly spec: StreamSpec, private readonly o: SessionRunnerOptions) {
    super();
    this.id = spec.id;
    this.source = spec.source;
  }

  async start(): Promise<void> {
    const { pool, device } = await this.o.pools.get(this.spec.device);
    this.engineDevice = { ...(this.spec.device ? { requested: this.spec.device } : {}), ...device };
    const { imageWidth, imageHeight } = pool.config.vision;
    // A service paces files to real time like any live source; behind real time, seconds are skipped.
    this.frames = openSource(this.spec.source, { fps: this.spec.fps, width: imageWidth, height: imageHeight, realtime: true });
    this.session = new CommentarySession({
      id: this.id,
      source: this.tap(this.frames),
      engine: pool,
      prompt: this.spec.prompt,
      policy: this.o.policy,
      skip: 'oldest',
    });
    this.session.on('event', (e: SessionEvent) => {
      if (e.type === 'status') this.lastStatus = pickStats(e);
      this.emit('event', e);
    });
    this.running = this.session.run();
  }

  async stop(): Promise<void> {
    this.session?.stop();
    await this.frames?.close();
    await this.running;
  }

  device(): StreamDevice | undefined {
    return this.engineDevice;
  }

  stats(): StreamStats {
    return this.lastStatus;
  }

  setPrompt(prompt: string): void {
    this.session?.setPrompt(prompt);
  }

  /** Passes chunks through to the session and, on the way, to 'chunk' listeners (the preview). */
  private tap(frames: FrameSource): AsyncIterable<FrameChunk> & { stats: () => { outputFps: number } } {
    const emit = (chunk: FrameChunk): void => {
      this.emit('chunk', chunk);
    };
    return {
      stats: () => frames.stats(),
      async *[Symbol.asyncIterator]() {
        for await (const chunk of frames) {
          emit(chunk);
          yield chunk;
        }
      },
    };
  }
}

function pickStats(e: StatusEvent): StreamStats {
  const { state, time, ingestFps, drops, lagSec, stepLatencyMs, cacheBytes, skippedSeconds } = e;
  return { state, time, ingestFps, drops, lagSec, stepLatencyMs, cacheBytes, skippedSeconds };
}

export function sessionFactory(options: SessionRunnerOptions): StreamFactory {
  return (spec) => new SessionRunner(spec, options);
}
