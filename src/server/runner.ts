/**
 * What the server needs from the engine: one running stream. The real implementation is the
 * engine's CommentarySession (src/stream), wired in by the integrator through a StreamFactory;
 * tests use a scripted double. The server only subscribes; it never reaches into a runner.
 */
import type { FrameChunk } from '../stream/index.js';
import type { Device } from '../model/providers.js';
import type { SessionEvent, StatusEvent } from '../stream/events.js';
import type { StreamDevice, StreamModel } from './schemas.js';

/** What a client asked for in POST /v1/streams, after validation and the source policy. */
export interface StreamSpec {
  /** Stream id chosen by the server (stable across restarts; names the transcript folder). */
  id: string;
  /** File path (already resolved under a file root) or network URL (already allowed by policy). */
  source: string;
  /** Sampling rate in frames per second. */
  fps: number;
  /** Optional user instruction for the commentary model. */
  prompt?: string;
  /** Where the model should run; absent: the server's default device. */
  device?: Device;
  /** The model by name (one the server allows, `serve --allow-model`); absent: the server's default model. */
  model?: string;
  /**
   * Set when a restarted server resumes this stream: where its transcript ended (stream seconds), how long
   * ago, and its previous commentary (bounded, silent seconds and gaps left out) to refill previous text.
   */
  resume?: { endSec: number; downtimeSec: number; previousTexts: string[] };
}

/** Numbers shown by GET /v1/streams/:id and exported to /metrics. */
export type StreamStats = Pick<
  StatusEvent,
  'state' | 'time' | 'ingestFps' | 'drops' | 'lagSec' | 'stepLatencyMs' | 'cacheBytes' | 'skippedSeconds' | 'reason' | 'attempt' | 'resumed' | 'oodScore'
>;

export interface StreamRunner {
  readonly id: string;
  readonly source: string;
  /**
   * Optional: claims room on the engine's device before anything is stored; throws `device_full` (503 with
   * Retry-After) when the device has none. Called once, before start(); stop() gives the room back.
   */
  admit?(): Promise<void>;
  /** Starts ingest + engine; resolves once started (errors after that arrive as 'error' events). */
  start(): Promise<void>;
  /** Stops everything the runner owns (child processes, workers); emits 'end' once; idempotent. */
  stop(): Promise<void>;
  /**
   * Optional: lets go of a stream that runs elsewhere without ending it (a gateway shutting down: the stream
   * goes on for the other gateways). Server shutdown calls it instead of stop() when present.
   */
  release?(): Promise<void>;
  /** Optional: deletes what the stream stored outside this process (DELETE ?purge=true of a cluster's stream). */
  purge?(): Promise<void>;
  on(event: 'event', listener: (event: SessionEvent) => void): this;
  /** Every 1-second chunk of sampled frames, for the video preview. Listeners must not keep `rgb`. */
  on(event: 'chunk', listener: (chunk: FrameChunk) => void): this;
  off(event: 'event', listener: (event: SessionEvent) => void): this;
  off(event: 'chunk', listener: (chunk: FrameChunk) => void): this;
  stats(): StreamStats;
  /** Optional: where the engine runs, known once start() has resolved (StreamInfo.device). */
  device?(): StreamDevice | undefined;
  /** Optional: the commentator and what it knows, known once start() has resolved (StreamInfo.model). */
  model?(): StreamModel | undefined;
  /** Optional: change the instruction between steps. Absent means not supported. */
  setPrompt?(prompt: string): void;
}

/** Creates a runner for a validated spec; must not connect to anything before `start()`. */
export type StreamFactory = (spec: StreamSpec) => StreamRunner;
