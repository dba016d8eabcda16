/**
 * What a commentary session publishes. The server subscribes and fans these out to WebSocket/SSE
 * clients as JSON with the `type` discriminator; src/stream never imports src/server.
 */
export interface CommentaryEvent {
  type: 'commentary';
  stream: string;
  /** Stream time of the second this commentary covers, [start, end). */
  start: number;
  end: number;
  /** " ..." is silence. */
  text: string;
  tokens: number;
  latencyMs: number;
}

export interface StatusEvent {
  type: 'status';
  stream: string;
  /** `out_of_domain`: the picture is not the world the model knows; the stream stays silent until it is. */
  state: 'starting' | 'live' | 'reconnecting' | 'lagging' | 'out_of_domain' | 'ended' | 'failed';
  /** Stream time in seconds of the latest processed second. */
  time: number;
  ingestFps: number;
  drops: number;
  lagSec: number;
  stepLatencyMs: number;
  cacheBytes: number;
  skippedSeconds: number;
  /** While `reconnecting` (and on `failed`): why, as one line naming the source; while `out_of_domain`: why, naming the model. */
  reason?: string;
  /** Models with an out-of-domain signal: the gate's window mean at this time (threshold in `reason` while out of domain). */
  oodScore?: number;
  /** While `reconnecting`: 0 = the open connection went quiet; n >= 1 = the n-th reconnect of this outage. */
  attempt?: number;
  /** On the first `live` after an outage: the stream resumed (after a source outage or a restart). */
  resumed?: boolean;
}

/**
 * Stream seconds [start, end) without commentary, and why: the source was gone (an outage the session saw
 * as `reconnecting`, or the time a restarted server was down; sent once, when commentary resumes), or the
 * session skipped them to stay live because the engine was behind real time (`SKIPPED_GAP_REASON`, sent
 * after the second before them). Every stream second is a line or a gap in the transcript.
 */
export const SKIPPED_GAP_REASON = 'skipped: the engine was behind real time';

/** A gap the session chose (lag), as opposed to one the source caused. */
export const isSkippedGap = (reason: string): boolean => reason === SKIPPED_GAP_REASON;

export interface GapEvent {
  type: 'gap';
  stream: string;
  start: number;
  end: number;
  reason: string;
}

export interface ErrorEvent {
  type: 'error';
  stream: string;
  code: string;
  message: string;
}

export interface EndEvent {
  type: 'end';
  stream: string;
}

export type SessionEvent = CommentaryEvent | StatusEvent | GapEvent | ErrorEvent | EndEvent;
