/**
 * `sightline serve`: the HTTP/WebSocket service. Config comes from flags, then env:
 *   SIGHTLINE_TOKEN (write + view), SIGHTLINE_VIEW_TOKEN (view only), SIGHTLINE_DATA,
 *   SIGHTLINE_FILE_ROOTS (":"-separated), SIGHTLINE_ALLOW_PRIVATE=1, SIGHTLINE_LOG_LEVEL.
 *
 * Integrator hook: `registerServe(program, hooks)` takes the engine's StreamFactory (and later the
 * `--demo` wiring) from `hooks`; `startService(options, factory)` is the same server for code.
 */
import type { Command } from 'commander';
import { SightlineError } from '../errors.js';
import { createServer, type RunningServer } from '../server/app.js';
import { createLogger, type LogLevel } from '../server/logger.js';
import type { StreamFactory } from '../server/runner.js';
import { positiveInteger } from './options.js';

export interface ServeOptions {
  port: number;
  host: string;
  data: string;
  token?: string;
  fileRoot?: string[];
  allowPrivate?: boolean;
}

export interface ServeHooks {
  /** The engine's factory (CommentarySession). Until wired, creating a stream answers an error. */
  factory?: () => StreamFactory | Promise<StreamFactory>;
  /** Runs after the server listens, with the parsed flags (e.g. `--demo` starts a synthetic match). */
  afterListen?: (server: RunningServer, flags: Record<string, unknown>) => Promise<void>;
}

/** Placeholder factory: refuses every stream with one clear error until the engine is plugged in. */
export const unwiredFactory: StreamFactory = () => {
  throw new SightlineError('provider_unavailable', 'the commentary engine is not wired into `sightline serve` yet');
};

export async function startService(options: ServeOptions, factory: StreamFactory): Promise<RunningServer> {
  const env = process.env;
  const token = options.token ?? env.SIGHTLINE_TOKEN;
  const roots = options.fileRoot?.length ? options.fileRoot : env.SIGHTLINE_FILE_ROOTS?.split(':').filter(Boolean) ?? [];
  const allowPrivate = options.allowPrivate || env.SIGHTLINE_ALLOW_PRIVATE === '1';
  return createServer({
    factory,
    dataDir: options.data,
    port: options.port,
    host: options.host,
    auth: { writeToken: token, viewToken: env.SIGHTLINE_VIEW_TOKEN ?? token },
    policy: { fileRoots: roots, allowPrivate, allowLoopback: allowPrivate },
    logger: createLogger((env.SIGHTLINE_LOG_LEVEL as LogLevel) ?? 'info'),
  });
}

export function registerServe(program: Command, hooks: ServeHooks = {}): Command {
  return program
    .command('serve')
    .description('run the commentary service: REST API, WebSocket/SSE fan-out, live web page')
    .option('--port <n>', 'port to listen on', positiveInteger, 8080)
    .option('--host <addr>', 'interface to listen on', '127.0.0.1')
    .option('--data <dir>', 'folder for transcripts', process.env.SIGHTLINE_DATA ?? '.sightline')
    .option('--token <t>', 'bearer token required for writes and viewing (env SIGHTLINE_TOKEN)')
    .option('--file-root <dir...>', 'folders file sources may be read from (env SIGHTLINE_FILE_ROOTS)')
    .option('--allow-private', 'allow network sources on private, link-local and loopback addresses')
    .action(async (opts: ServeOptions & Record<string, unknown>) => {
      const factory = hooks.factory ? await hooks.factory() : unwiredFactory;
      const server = await startService(opts, factory);
      process.stdout.write(`sightline serving at ${server.url}\n`);
      await hooks.afterListen?.(server, opts);
      const shutdown = () => {
        void server.close().then(() => process.exit(0));
      };
      process.once('SIGINT', shutdown);
      process.once('SIGTERM', shutdown);
    });
}
