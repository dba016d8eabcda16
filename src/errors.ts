/**
 * The one error type Sightline raises on purpose. `code` is stable (clients and tests match on it),
 * `message` is one line naming the input and the cause. src/server maps `httpStatus` / `wsCloseCode`
 * to responses in one place; the CLI prints `message` and exits non-zero.
 */
export type ErrorCode =
  | 'bad_input'
  | 'source_not_found'
  | 'source_not_video'
  | 'source_no_video_stream'
  | 'source_corrupt'
  | 'source_unknown_protocol'
  | 'source_unreachable'
  | 'source_timeout'
  | 'source_failed'
  | 'ffmpeg_missing'
  | 'model_invalid'
  | 'provider_unavailable'
  | 'cache_full'
  | 'worker_failed'
  | 'device_error'
  | 'not_found'
  | 'unauthorized'
  | 'forbidden'
  | 'too_large'
  | 'rate_limited'
  | 'device_full'
  | 'stream_limit'
  | 'internal';

const HTTP_STATUS: Record<ErrorCode, number> = {
  bad_input: 400,
  source_not_found: 400,
  source_not_video: 400,
  source_no_video_stream: 400,
  source_corrupt: 400,
  source_unknown_protocol: 400,
  source_unreachable: 502,
  source_timeout: 504,
  source_failed: 502,
  ffmpeg_missing: 500,
  model_invalid: 500,
  provider_unavailable: 500,
  cache_full: 507,
  worker_failed: 500,
  device_error: 500,
  not_found: 404,
  unauthorized: 401,
  forbidden: 403,
  too_large: 413,
  rate_limited: 429,
  device_full: 503,
  stream_limit: 503,
  internal: 500,
};

export class SightlineError extends Error {
  readonly code: ErrorCode;
  /** When trying again may succeed (a full device, a rate limit): the server's `Retry-After`, in seconds. */
  readonly retryAfterSec?: number;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; retryAfterSec?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SightlineError';
    this.code = code;
    if (options?.retryAfterSec !== undefined) this.retryAfterSec = Math.max(1, Math.ceil(options.retryAfterSec));
  }

  get httpStatus(): number {
    return HTTP_STATUS[this.code];
  }

  /** WebSocket close codes 4000-4999 are application-defined; we use 4000 + HTTP status. */
  get wsCloseCode(): number {
    return 4000 + (this.httpStatus % 1000);
  }
}

export function isSightlineError(err: unknown): err is SightlineError {
  return err instanceof SightlineError;
}
