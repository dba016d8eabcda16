/**
 * The one place errors become responses: HTTP JSON bodies (also for refused WebSocket upgrades)
 * and in-band WebSocket `error` messages go through toSightlineError/toErrorResponse; the
 * application WebSocket close codes are defined here.
 */
import { z } from 'zod';
import { SightlineError, isSightlineError } from '../errors.js';
import { describeZodError } from './schemas.js';

/** WebSocket close code for a viewer whose outbound queue filled up (application range 4000-4999). */
export const WS_CLOSE_SLOW_CONSUMER = 4008;
export const WS_CLOSE_SLOW_CONSUMER_REASON = 'slow consumer: outbound queue full';
/** Normal close sent to viewers when the stream ends or the server shuts down. */
export const WS_CLOSE_NORMAL = 1000;

export interface ErrorResponse {
  status: number;
  body: { error: { code: string; message: string } };
  /** `Retry-After` (seconds) when the error says when to try again (503 device_full, 429 rate_limited). */
  headers: Record<string, string>;
}

/** Any thrown value -> a SightlineError (unexpected ones become `internal` with a generic message). */
export function toSightlineError(err: unknown): SightlineError {
  if (isSightlineError(err)) return err;
  if (err instanceof z.ZodError) return new SightlineError('bad_input', describeZodError(err), { cause: err });
  if (err instanceof SyntaxError) return new SightlineError('bad_input', `malformed JSON: ${err.message}`, { cause: err });
  return new SightlineError('internal', 'internal server error', { cause: err });
}

/** WebSocket close for a stream that ended in error: the error's close code (4000 + HTTP status). */
export function toWsClose(err: unknown): WsClose {
  const e = toSightlineError(err);
  return { code: e.wsCloseCode, reason: Buffer.from(e.message).subarray(0, 120).toString() };
}

export interface WsClose {
  code: number;
  /** At most 123 bytes on the wire. */
  reason: string;
}

export function toErrorResponse(err: unknown): ErrorResponse {
  const e = toSightlineError(err);
  const headers: Record<string, string> = e.retryAfterSec !== undefined ? { 'Retry-After': String(e.retryAfterSec) } : {};
  return { status: e.httpStatus, body: { error: { code: e.code, message: e.message } }, headers };
}
