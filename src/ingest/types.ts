/** What ingest delivers: sampled RGB frames with presentation timestamps, grouped by second. */

/** One sampled frame: packed RGB24, row-major, `width * height * 3` bytes. */
export interface Frame {
  /** Presentation time in seconds from the start of the source (0, 0.5, 1.0, ... at 2 fps). */
  ptsSec: number;
  width: number;
  height: number;
  rgb: Uint8Array;
}

/** The frames of one second of stream time, [startSec, startSec + 1). */
export interface FrameChunk {
  startSec: number;
  frames: Frame[];
  /** Frames dropped in this second by backpressure or corrupt data. */
  dropped: number;
}

/** How a source is opened. Sizes are the model's input; ffmpeg scales to cover and centre-crops (or stretches: `fit`). */
export interface IngestOptions {
  /** Sampling rate in frames per second (default 2). */
  fps?: number;
  /** Output frame size in pixels (default 224 x 224). */
  width?: number;
  height?: number;
  /**
   * How the picture is fitted to width x height: 'cover' scales to cover it, keeping the aspect ratio, and
   * centre-crops the overflow (default); 'stretch' resizes to exactly width x height (SigLIP's processor).
   */
  fit?: 'cover' | 'stretch';
  /** Files: pace to real time instead of as fast as possible (live sources are always real time). */
  realtime?: boolean;
  /** Stop after this many seconds of stream time. */
  seconds?: number;
  /** Frames waiting for the consumer before the oldest are dropped (keep newest). */
  maxQueuedFrames?: number;
  /** Live sources: reconnect on drop/stall with exponential backoff (default true for network sources and webcams). */
  reconnect?: boolean;
  signal?: AbortSignal;
  /**
   * What a full queue does: 'drop' discards the oldest frame (keep newest; default for live sources and
   * realtime files), 'wait' stops reading so ffmpeg blocks, losing nothing (default for files read as
   * fast as possible, and stdin).
   */
  backpressure?: 'drop' | 'wait';
  /**
   * A live source with no new frame for this long is treated as dropped and reconnected (default 5000;
   * 2000 for udp/rtp, where ffmpeg listens and a restart is cheap and resyncs to a restarted sender).
   */
  stallTimeoutMs?: number;
  /**
   * A live source with no new frame for this long is reported `reconnecting` (attempt 0: the connection is
   * still open, nothing arrives) before the stall watchdog restarts it (default 1000).
   */
  quietAfterMs?: number;
  /**
   * A live source that has delivered no frame for this long gives up with state 'failed' and the last
   * cause (default 300000 = 5 min; sources that do not reconnect, such as files, fail at once).
   */
  maxOutageMs?: number;
  /**
   * The source delivered before (a stream resumed after a restart): reconnect from the first attempt, as
   * after a drop, for up to maxOutageMs, instead of failing at once when the first connection fails.
   */
  wasLive?: boolean;
  /** ffmpeg network I/O timeout (connect/read), also the wait for a live source's first frame (default 5000). */
  ioTimeoutMs?: number;
  /** First reconnect delay; doubles per failed attempt (default 500). */
  reconnectDelayMs?: number;
  /** Cap of the reconnect delay (default 10000; 1000 for udp/rtp, whose next attempt itself waits listening). */
  reconnectMaxDelayMs?: number;
  /** Consecutive failed reconnect attempts before giving up with state 'failed' (default: no limit, see maxOutageMs). */
  maxReconnectAttempts?: number;
  /** RTSP transport (default 'tcp'). */
  rtspTransport?: 'tcp' | 'udp';
  /** Where the "-" source reads from (default process.stdin). */
  stdin?: import('node:stream').Readable;
  /** Decoder tuning, measured in bench/ingest-cost.ts: decoder threads (default 1; 0 = ffmpeg decides). */
  decoderThreads?: number;
  /** swscale algorithm for the downscale (default 'bilinear'). */
  scaleFlags?: string;
  /** `-flags2 +fast`: non-spec-compliant speedups in the H.264 decoder (default false). */
  fastDecode?: boolean;
  /** Advanced: extra ffmpeg input options placed before -i, e.g. `{ skip_loop_filter: 'all' }`. */
  inputOptions?: Record<string, string | number>;
}

export type SourceState = 'starting' | 'live' | 'reconnecting' | 'ended' | 'failed';

/**
 * Why a source is in its state, the third argument of a 'state' event: for `reconnecting` the cause and
 * the attempt (0: the open connection went quiet; n >= 1: the n-th reconnect since frames last flowed),
 * for `failed` the error code.
 */
export interface SourceHealth {
  reason?: string;
  attempt?: number;
  code?: string;
}

export interface IngestStats {
  state: SourceState;
  /** Frames per second decoded by ffmpeg from the input, from its -progress output. */
  inputFps: number;
  /** Sampled frames per second delivered to the consumer. */
  outputFps: number;
  framesDelivered: number;
  framesDropped: number;
  /** Wall-clock seconds the consumer is behind the live edge. */
  lagSec: number;
  reconnects: number;
  /** Of framesDropped: input frames ffmpeg reported corrupt (skipped, not fatal). */
  corruptFrames?: number;
  /** Frames waiting in the queue now (never more than maxQueuedFrames under 'drop'). */
  queuedFrames?: number;
  /** Stream time of the newest frame read from ffmpeg, in seconds. */
  streamSec?: number;
}

/**
 * An open source: iterate it for 1-second chunks; `close()` kills ffmpeg. Implemented by
 * `openSource(source, options)` in src/ingest/index.ts. Emits 'state' (SourceState, detail?) on each
 * state change and rejects the iteration with a SightlineError naming the source and the cause.
 */
export interface FrameSource extends AsyncIterable<FrameChunk> {
  readonly source: string;
  stats(): IngestStats;
  on(event: 'state', listener: (state: SourceState, detail?: string, health?: SourceHealth) => void): this;
  close(): Promise<void>;
}
