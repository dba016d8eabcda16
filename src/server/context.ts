/** What route modules share: the hono env type and the server's parts. */
import type { HttpBindings } from '@hono/node-server';
import type { Context } from 'hono';
import { presentedToken, requireAccess, type Access, type AuthOptions } from './auth.js';
import type { Logger } from './logger.js';
import type { ServerMetrics } from './metrics.js';
import type { SearchService } from '../search/service.js';
import type { RateLimiter } from './rate-limit.js';
import type { SourcePolicyOptions } from './source-policy.js';
import type { StreamManager } from './streams.js';

export type AppEnv = { Bindings: HttpBindings };
export type AppContext = Context<AppEnv>;

export interface ServerParts {
  manager: StreamManager;
  metrics: ServerMetrics;
  logger: Logger;
  auth: AuthOptions;
  policy: SourcePolicyOptions;
  limiter: RateLimiter;
  startedMs: number;
  /** A cluster gateway: SSE ids (and so Last-Event-ID) are stream seconds, the same on every gateway. */
  resumeBySecond?: boolean;
  /** Video search (/v1/search, /v1/videos); absent: those routes answer 404. */
  search?: SearchService;
  /** Model names a stream may ask for (POST /v1/streams {model}); absent: streams cannot name a model. */
  models?: readonly string[];
}

/** Throws `unauthorized` unless the request carries a token granting `access`. */
export function authorize(c: AppContext, parts: ServerParts, access: Access): void {
  requireAccess(parts.auth, access, presentedToken(c.req.header('authorization'), new URL(c.req.url)));
}

/** The peer address of the TCP connection (no proxy headers are trusted). */
export function clientIp(c: AppContext): string {
  return c.env?.incoming?.socket?.remoteAddress ?? 'unknown';
}
