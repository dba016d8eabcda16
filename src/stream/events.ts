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
  state: 'starting' | 'live' | 'reconnecting' | 'lagging' | 'ended' | 'failed';
  /** Stream time in seconds of the latest processed second. */
  time: number;
  ingestFps: number;
  drops: number;
  lagSec: number;
  stepLatencyMs: number;
  cacheBytes: number;
  skippedSeconds: number;
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

export type SessionEvent = CommentaryEvent | StatusEvent | ErrorEvent | EndEvent;
