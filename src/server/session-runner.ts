/**
 * The real StreamRunner: startCommentary (src/stream: ingest -> CommentarySession) on the shared EnginePool
 * of the stream's device (DevicePools; resolved in start(), so the factory stays synchronous and a pool that
 * cannot start fails only this stream's creation). Chunks are tapped on their way to the session for the
 * video preview; session events are passed on.
 */
import { EventEmitter } from 'node:events';
import { SightlineError } from '../errors.js';
import type { CachePolicyName } from '../cache/index.js';
import type { DevicePools, ResolvedPool } from '../model/device-pools.js';
import { startCommentary, type SourceOptions, type FrameChunk, type RunningCommentary, type SessionEvent, type StatusEvent } from '../stream/index.js';
import type { StreamFactory, StreamRunner, StreamSpec, StreamStats } from './runner.js';
import type { StreamDevice, StreamModel } from './schemas.js';
import type { ModelFolder } from '../model/model-folder.js';

export interface SessionRunnerOptions {
  /** The default model's pools. */
  pools: DevicePools;
  /** Pools of the models streams may name (POST /v1/streams {model}), by name; the default model's included. */
  models?: ReadonlyMap<string, DevicePools>;
  policy?: CachePolicyName;
  /** A live source gone this long fails its stream (ingest's maxOutageMs; default 5 min). */
  maxOutageMs?: number;
  /** Ingest overrides for every stream (tests shorten the stall and reconnect timings). */
  ingest?: SourceOptions;
}

const IDLE_STATS: StreamStats = { state: 'starting', time: 0, ingestFps: 0, drops: 0, lagSec: 0, stepLatencyMs: 0, cacheBytes: 0, skippedSeconds: 0 };

class SessionRunner extends EventEmitter implements StreamRunner {
  readonly id: string;
  readonly source: string;
  private commentary?: RunningCommentary;
  private lastStatus: StreamStats = IDLE_STATS;
  private engineDevice?: StreamDevice;
  private engineModel?: StreamModel;
  /** The pool admit() resolved (and claimed room on), or why it could not be resolved (start() reports it). */
  private resolved?: ResolvedPool | { error: unknown };

  constructor(private readonly spec: StreamSpec, private readonly o: SessionRunnerOptions) {
    super();
    this.id = spec.id;
    this.source = spec.source;
  }

  /** Claims room on the device's pool (device_full when it has none). A pool that cannot start fails start() instead, as a failed stream. */
  async admit(): Promise<void> {
    try {
      this.resolved = await this.modelPools().get(this.spec.device);
    } catch (error) {
      this.resolved = { error };
      return;
    }
    this.resolved.pool.admit(this.id);
  }

  async start(): Promise<void> {
    const resolved = this.resolved ?? (await this.modelPools().get(this.spec.device));
    if ('error' in resolved) throw resolved.error;
    const { pool, device } = resolved;
    this.engineDevice = { ...(this.spec.device ? { requested: this.spec.device } : {}), ...device };
    // Pools that are not EnginePools (test doubles) have no folder: no model to name then.
    this.engineModel = (pool as Partial<Pick<typeof pool, 'folder'>>).folder ? modelInfo(pool.folder) : undefined;
    try {
      this.commentary = this.run(pool);
    } catch (err) {
      await pool.close(this.id); // gives back the room admit() claimed
      throw err;
    }
  }

  /** The pools of the stream's model (a model no longer allowed, after a restart with other flags, fails the stream). */
  private modelPools(): DevicePools {
    if (this.spec.model === undefined) return this.o.pools;
    const pools = this.o.models?.get(this.spec.model);
    if (!pools) throw new SightlineError('model_invalid', `model "${this.spec.model}" is not one this server runs (serve --allow-model DIR)`);
    return pools;
  }

  private run(pool: ResolvedPool['pool']): RunningCommentary {
    return startCommentary(this.spec.source, pool, {
      id: this.id,
      prompt: this.spec.prompt,
      ...(this.spec.resume
        ? {
            previousTexts: this.spec.resume.previousTexts,
            resume: { endSec: this.spec.resume.endSec, downtimeSec: this.spec.resume.downtimeSec, reason: `server restarted (down ${this.spec.resume.downtimeSec} s)` },
          }
        : {}),
      policy: this.o.policy,
      // A service paces files to real time like any live source; behind real time, seconds are skipped.
      ingest: { ...this.o.ingest, fps: this.spec.fps, realtime: true, ...(this.o.maxOutageMs ? { maxOutageMs: this.o.maxOutageMs } : {}) },
      skip: 'oldest',
      onChunk: (chunk: FrameChunk) => this.emit('chunk', chunk), // the video preview
      onEvent: (e: SessionEvent) => {
        if (e.type === 'status') this.lastStatus = pickStats(e);
        this.emit('event', e);
      },
    });
  }

  async stop(): Promise<void> {
    if (this.commentary) return this.commentary.stop();
    // Admitted but never started: give the room back.
    if (this.resolved && !('error' in this.resolved)) await this.resolved.pool.close(this.id);
  }

  device(): StreamDevice | undefined {
    return this.engineDevice;
  }

  model(): StreamModel | undefined {
    return this.engineModel;
  }

  stats(): StreamStats {
    return this.lastStatus;
  }

  setPrompt(prompt: string): void {
    this.commentary?.setPrompt(prompt);
  }
}

/** The stream JSON's `stats`: a status event less its envelope. */
export function pickStats(e: StatusEvent): StreamStats {
  const { state, time, ingestFps, drops, lagSec, stepLatencyMs, cacheBytes, skippedSeconds, reason, attempt, resumed, oodScore } = e;
  return {
    state, time, ingestFps, drops, lagSec, stepLatencyMs, cacheBytes, skippedSeconds,
    ...(reason !== undefined ? { reason } : {}),
    ...(attempt !== undefined ? { attempt } : {}),
    ...(resumed ? { resumed } : {}),
    ...(oodScore !== undefined ? { oodScore } : {}),
  };
}

/** The model's name, and what it knows and its out-of-domain gate when its folder has ood.json. */
export function modelInfo(folder: Pick<ModelFolder, 'config' | 'ood'>): StreamModel {
  const { ood } = folder;
  return { name: folder.config.name, ...(ood ? { knows: ood.domain, outOfDomain: { threshold: ood.enter, windowSec: ood.windowSec } } : {}) };
}

export function sessionFactory(options: SessionRunnerOptions): StreamFactory {
  return (spec) => new SessionRunner(spec, options);
}
