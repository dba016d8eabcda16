import { SightlineError } from '../errors.js';
import { DEFAULT_MAX_QUEUED_FRAMES } from './frame-queue.js';
import type { ClassifiedSource } from './source-kind.js';
import type { IngestOptions } from './types.js';

/** Every IngestOptions field with its default filled in; the defaults are documented on IngestOptions. */
export interface ResolvedOptions {
  fps: number;
  width: number;
  height: number;
  fit: 'cover' | 'stretch';
  realtime: boolean;
  seconds: number | undefined;
  maxQueuedFrames: number;
  reconnect: boolean;
  backpressure: 'drop' | 'wait';
  stallTimeoutMs: number;
  quietAfterMs: number;
  maxOutageMs: number;
  wasLive: boolean;
  ioTimeoutMs: number;
  reconnectDelayMs: number;
  reconnectMaxDelayMs: number;
  maxReconnectAttempts: number;
  rtspTransport: 'tcp' | 'udp';
  decoderThreads: number;
  scaleFlags: string;
  fastDecode: boolean;
  inputOptions: Record<string, string | number>;
}

export const INGEST_DEFAULTS = {
  fps: 2,
  width: 224,
  height: 224,
  maxQueuedFrames: DEFAULT_MAX_QUEUED_FRAMES,
  stallTimeoutMs: 5000,
  /** udp/rtp: ffmpeg listens, so restarting it is cheap and resyncs timestamps after the sender restarts. */
  listenerStallTimeoutMs: 2000,
  quietAfterMs: 1000,
  maxOutageMs: 300_000,
  ioTimeoutMs: 5000,
  reconnectDelayMs: 500,
  reconnectMaxDelayMs: 10_000,
  /** udp/rtp: the next attempt is itself a wait (ffmpeg listening), so sleeping long only delays resuming. */
  listenerReconnectMaxDelayMs: 1000,
  maxReconnectAttempts: Number.POSITIVE_INFINITY,
  // Measured in bench/ingest-cost.ts: one decoder thread is the cheapest in CPU-seconds per stream-second.
  decoderThreads: 1,
  scaleFlags: 'bilinear',
} as const;

function positive(name: string, value: number | undefined, fallback: number, source: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) throw new SightlineError('bad_input', `${source}: ${name} must be > 0, got ${value}`);
  return value;
}

export function resolveOptions(source: string, classified: ClassifiedSource, o: IngestOptions): ResolvedOptions {
  const d = INGEST_DEFAULTS;
  const realtime = o.realtime ?? false;
  const paced = classified.live || realtime;
  const listener = classified.kind === 'udp' || classified.kind === 'rtp';
  const width = Math.round(positive('width', o.width, d.width, source));
  const height = Math.round(positive('height', o.height, d.height, source));
  return {
    fps: positive('fps', o.fps, d.fps, source),
    width,
    height,
    fit: o.fit ?? 'cover',
    realtime,
    seconds: o.seconds === undefined ? undefined : positive('seconds', o.seconds, 1, source),
    maxQueuedFrames: Math.round(positive('maxQueuedFrames', o.maxQueuedFrames, d.maxQueuedFrames, source)),
    reconnect: o.reconnect ?? (classified.network || classified.live), // a webcam can be re-plugged too
    backpressure: o.backpressure ?? (paced || classified.network ? 'drop' : 'wait'),
    stallTimeoutMs: positive('stallTimeoutMs', o.stallTimeoutMs, listener ? d.listenerStallTimeoutMs : d.stallTimeoutMs, source),
    quietAfterMs: positive('quietAfterMs', o.quietAfterMs, d.quietAfterMs, source),
    maxOutageMs: positive('maxOutageMs', o.maxOutageMs, d.maxOutageMs, source),
    wasLive: o.wasLive ?? false,
    ioTimeoutMs: positive('ioTimeoutMs', o.ioTimeoutMs, d.ioTimeoutMs, source),
    reconnectDelayMs: positive('reconnectDelayMs', o.reconnectDelayMs, d.reconnectDelayMs, source),
    reconnectMaxDelayMs: positive('reconnectMaxDelayMs', o.reconnectMaxDelayMs, listener ? d.listenerReconnectMaxDelayMs : d.reconnectMaxDelayMs, source),
    maxReconnectAttempts: o.maxReconnectAttempts ?? d.maxReconnectAttempts,
    rtspTransport: o.rtspTransport ?? 'tcp',
    decoderThreads: o.decoderThreads ?? d.decoderThreads,
    scaleFlags: o.scaleFlags ?? d.scaleFlags,
    fastDecode: o.fastDecode ?? false,
    inputOptions: o.inputOptions ?? {},
  };
}
