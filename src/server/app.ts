/**
 * createServer: the whole service on one node http server (hono for HTTP, ws on 'upgrade').
 *
 *   const server = await createServer({ factory, dataDir: '.sightline' });
 *   console.log(server.url); ... await server.close();
 *
 * The StreamFactory is the only engine dependency: the CLI (and `--demo`) pass the real session's
 * factory; tests pass a scripted one.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAdaptorServer } from '@hono/node-server';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { SightlineError } from '../errors.js';
import type { AuthOptions } from './auth.js';
import type { AppEnv, ServerParts } from './context.js';
import { toErrorResponse } from './errors.js';
import type { FanoutOptions } from './fanout.js';
import { createLogger, type Logger } from './logger.js';
import { ServerMetrics, type EngineLoadSource, type ThreadMemorySource } from './metrics.js';
import { RateLimiter, type RateLimitOptions } from './rate-limit.js';
import { eventRoutes } from './routes/events.js';
import { streamRoutes } from './routes/streams.js';
import { defaultWebDir, systemRoutes } from './routes/system.js';
import { transcriptRoutes } from './routes/transcripts.js';
import { searchRoutes } from './routes/search.js';
import type { SearchService } from '../search/service.js';
import type { StreamFactory } from './runner.js';
import type { SourcePolicyOptions } from './source-policy.js';
import { StreamManager } from './streams.js';
import { TranscriptStore } from './transcript-store.js';
import type { TranscriptSource } from './routes/transcripts.js';
import { attachWebSockets } from './ws.js';

/** Default request body limit: 16 KiB. */
export const DEFAULT_MAX_BODY_BYTES = 16 * 1024;

export interface ServerOptions {
  factory: StreamFactory;
  /** Folder for transcripts (created if missing). */
  dataDir: string;
  /** Port (default 8080; 0 picks a free one). */
  port?: number;
  /** Interface to listen on (default 127.0.0.1). */
  host?: string;
  auth?: AuthOptions;
  policy?: SourcePolicyOptions;
  rateLimit?: RateLimitOptions;
  fanout?: FanoutOptions;
  maxBodyBytes?: number;
  /** The operator's limit on live streams (default none: each device admits by measured load). */
  maxLiveStreams?: number;
  /** Model names a stream may ask for by name (serve: --model's and each --allow-model's). */
  models?: readonly string[];
  maxEndedStreams?: number;
  videoQueueBytes?: number;
  wsMaxPayloadBytes?: number;
  /** WebSocket connections accepted at once (default 20,000). */
  maxWsConnections?: number;
  /** SSE connections kept open at once (default 10,000). */
  maxSseConnections?: number;
  /** WebSocket ping interval; unanswered sockets are cut at the next one (default 30 s). */
  heartbeatMs?: number;
  fsyncIntervalMs?: number;
  logger?: Logger;
  webDir?: string;
  /** The engine pools' measured load, for /metrics (serve passes its DevicePools'). */
  engineLoad?: EngineLoadSource;
  /** The engine workers' own memory, for /metrics (the search encoder's is added here). */
  engineMemory?: ThreadMemorySource;
  /**
   * A cluster gateway: SSE ids are stream seconds, so Last-Event-ID resumes on any gateway (FanoutOptions.sseIdBySecond).
   */
  resumeBySecond?: boolean;
  /** Where exports read transcripts (a gateway: JetStream); default: the data dir's transcript files. */
  transcripts?: TranscriptSource;
  /** Video search; its live index hears every commentary segment. Closed with the server. */
  search?: SearchService;
}

export interface RunningServer {
  url: string;
  port: number;
  manager: StreamManager;
  /** Stops every stream, closes viewers and the listener. */
  close(): Promise<void>;
}

export function buildApp(parts: ServerParts, store: TranscriptSource, options: { maxBodyBytes: number; webDir: string; maxSseConnections?: number }): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.onError((err, c) => {
    const { status, body, headers } = toErrorResponse(err);
    if (status >= 500 && status !== 503) parts.logger.error('request failed', { path: c.req.path, err: String((err as Error).cause ?? err) });
    else if (status === 503) parts.logger.warn('request refused', { path: c.req.path, code: body.error.code, message: body.error.message });
    return c.json(body, status as 400, headers);
  });
  app.notFound(() => {
    throw new SightlineError('not_found', 'no such route');
  });
  app.use('*', async (c, next) => {
    const startMs = performance.now();
    await next();
    const route = c.req.routePath;
    parts.metrics.countRequest(route, c.res.status);
    parts.logger.debug('request', { method: c.req.method, path: c.req.path, status: c.res.status, ms: +(performance.now() - startMs).toFixed(1) });
  });
  app.use(
    '/v1/*',
    bodyLimit({
      maxSize: options.maxBodyBytes,
      onError: () => {
        throw new SightlineError('too_large', `request body is larger than ${options.maxBodyBytes} bytes`);
      },
    }),
  );
  app.route('/v1/streams', streamRoutes(parts));
  app.route('/v1/streams', transcriptRoutes(parts, store));
  app.route('/v1/streams', eventRoutes(parts, options.maxSseConnections));
  app.route('/v1', searchRoutes(parts));
  app.route('/', systemRoutes(parts, options.webDir));
  return app;
}

export async function createServer(options: ServerOptions): Promise<RunningServer> {
  const logger = options.logger ?? createLogger('info');
  const store = new TranscriptStore(options.dataDir, options.fsyncIntervalMs);
  let manager!: StreamManager;
  const metrics = new ServerMetrics({
    streams: () =>
      manager.list().map((s) => {
        const info = manager.info(s);
        return { id: info.id, state: info.state, viewers: info.viewers, lagSec: info.stats?.lagSec ?? 0, drops: info.stats?.drops ?? 0, ingestFps: info.stats?.ingestFps ?? 0, skippedSeconds: info.stats?.skippedSeconds ?? 0, reconnectAttempt: info.stats?.attempt };
      }),
  }, {
    engineLoad: options.engineLoad,
    workerMemory: async () => {
      const encoder = options.search?.encoder.memory?.().then((memory) => [{ thread: 'encoder', memory }], () => []);
      return [...((await options.engineMemory?.()) ?? []), ...((await encoder) ?? [])];
    },
    ...(options.search ? { searchCacheBytes: () => options.search!.store.cacheBytes() + options.search!.live.cacheBytes() } : {}),
  });
  manager = new StreamManager({
    factory: options.factory,
    store,
    logger,
    metrics,
    fanout: options.resumeBySecond ? { ...options.fanout, sseIdBySecond: true } : options.fanout,
    maxLiveStreams: options.maxLiveStreams,
    maxEndedStreams: options.maxEndedStreams,
    videoQueueBytes: options.videoQueueBytes,
    onSegment: options.search ? (s) => options.search!.addLiveSegment(s) : undefined,
  });
  const parts: ServerParts = {
    manager,
    metrics,
    logger,
    auth: options.auth ?? {},
    policy: options.policy ?? {},
    limiter: new RateLimiter(options.rateLimit),
    startedMs: Date.now(),
    search: options.search,
    ...(options.models ? { models: options.models } : {}),
    ...(options.resumeBySecond ? { resumeBySecond: true } : {}),
  };
  const webDir = options.webDir ?? defaultWebDir(path.dirname(fileURLToPath(import.meta.url)));
  const app = buildApp(parts, options.transcripts ?? store, { maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES, webDir, maxSseConnections: options.maxSseConnections });
  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
  const sockets = attachWebSockets(server, { manager, auth: parts.auth, logger, maxPayloadBytes: options.wsMaxPayloadBytes, maxConnections: options.maxWsConnections, heartbeatMs: options.heartbeatMs });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8080, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  logger.info('listening', { url });
  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    manager,
    close() {
      closing ??= (async () => {
        await manager.closeAll();
        await options.search?.close();
        sockets.close();
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        logger.info('closed', { url });
      })();
      return closing;
    },
  };
}
