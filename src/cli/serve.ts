/**
 * `sightline serve`: the HTTP/WebSocket service. Config comes from flags, then env:
 *   SIGHTLINE_TOKEN (write + view), SIGHTLINE_VIEW_TOKEN (view only), SIGHTLINE_DATA,
 *   SIGHTLINE_FILE_ROOTS (":"-separated), SIGHTLINE_ALLOW_PRIVATE=1, SIGHTLINE_LOG_LEVEL, SIGHTLINE_DEVICE.
 *
 * Streams run on EnginePools (worker threads owning the model and every stream's KV cache) loaded from
 * --model, one per device (DevicePools): the default device's at startup, another when a stream first asks
 * for it (POST /v1/streams {device}). `--demo` starts a synthetic live match and a stream of it (src/cli/demo.ts).
 * `startService(options, factory)` is the same server for code and tests.
 */
import type { Command } from 'commander';
import { defaultModelDir } from '../model/default-model.js';
import { DevicePools } from '../model/device-pools.js';
import { defaultRetrievalDir } from '../model/encoder-folder.js';
import { loadModelFolder } from '../model/model-folder.js';
import { defaultEngineWorkers, EnginePool } from '../model/pool.js';
import type { Device } from '../model/providers.js';
import { device } from './watch.js';
import { SightlineError } from '../errors.js';
import { createServer, type RunningServer, type ServerOptions } from '../server/app.js';
import { sessionFactory } from '../server/session-runner.js';
import { startDemo } from './demo.js';
import { SearchService } from '../search/service.js';
import { createLogger, type Logger, type LogLevel } from '../server/logger.js';
import type { StreamFactory } from '../server/runner.js';
import type { EngineLoadSource, ThreadMemorySource } from '../server/metrics.js';
import { CACHE_POLICIES, DEFAULT_CACHE_POLICY, type CachePolicyName } from '../cache/index.js';
import { cachePolicyName, nonNegativeInteger, positiveInteger } from './options.js';

/** What the HTTP service itself takes (startService). */
export interface ServiceOptions {
  port: number;
  host: string;
  data: string;
  token?: string;
  fileRoot?: string[];
  allowPrivate?: boolean;
  /** The operator's limit on live streams (default none: each device admits by its measured load). */
  maxStreams?: number;
  /** The engine pools' measured load, for /metrics. */
  engineLoad?: EngineLoadSource;
  /** The engine workers' own memory, for /metrics. */
  engineMemory?: ThreadMemorySource;
  /** Default: a JSON logger on stderr at SIGHTLINE_LOG_LEVEL (info). */
  logger?: Logger;
}

/** Where `serve` keeps the search index by default: <data>/search (the CLI's .sightline/search). */
export const searchDbOf = (data: string, searchDb?: string): string => searchDb ?? `${data.replace(/\/+$/, '')}/search`;

/** The `serve` command's flags: the service plus the engine and the demo. */
export interface ServeOptions extends ServiceOptions {
  model: string;
  /** Other model folders a stream may ask for by name (POST /v1/streams {model}). */
  allowModel?: string[];
  workers?: number;
  device?: Device;
  demo?: boolean;
  demoSeed: number;
  searchDb?: string;
  searchModel: string;
  searchVariant?: string;
  search: boolean;
  sourceTimeout?: number;
  policy: CachePolicyName;
}

/** --source-timeout or SIGHTLINE_SOURCE_TIMEOUT_S in seconds -> ms; absent: ingest's default (5 min). */
function sourceTimeoutMs(flag: number | undefined): number | undefined {
  const env = Number(process.env.SIGHTLINE_SOURCE_TIMEOUT_S);
  const sec = flag ?? (Number.isFinite(env) && env > 0 ? env : undefined);
  return sec === undefined ? undefined : sec * 1000;
}

/** `extra`: server options beyond the service's flags (a cluster gateway's resume cursor, transcript source, history). */
export async function startService(options: ServiceOptions, factory: StreamFactory, search?: SearchService, extra: Partial<ServerOptions> = {}): Promise<RunningServer> {
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
    logger: options.logger ?? createLogger((env.SIGHTLINE_LOG_LEVEL as LogLevel) ?? 'info'),
    ...(options.maxStreams !== undefined ? { maxLiveStreams: options.maxStreams } : {}),
    ...(options.engineLoad ? { engineLoad: options.engineLoad } : {}),
    ...(options.engineMemory ? { engineMemory: options.engineMemory } : {}),
    search,
    ...extra,
  });
}

export function registerServe(program: Command): Command {
  return program
    .command('serve')
    .description('run the commentary service: REST API, WebSocket/SSE fan-out, live web page')
    .option('--port <n>', 'port to listen on (0: any free port)', nonNegativeInteger, 8080)
    .option('--host <addr>', 'interface to listen on', '127.0.0.1')
    .option('--data <dir>', 'folder for transcripts', process.env.SIGHTLINE_DATA ?? '.sightline')
    .option('--token <t>', 'bearer token required for writes and viewing (env SIGHTLINE_TOKEN)')
    .option('--file-root <dir...>', 'folders file sources may be read from (env SIGHTLINE_FILE_ROOTS)')
    .option('--allow-private', 'allow network sources on private, link-local and loopback addresses')
    .option('--model <dir>', 'commentary model folder (docs/model-format.md, or a Hugging Face one: docs/byo-models.md); default: the shipped model', defaultModelDir())
    .option('--allow-model <dir...>', 'other model folders a stream may choose by name (POST /v1/streams {"model": name}); each starts on first use')
    .option('--workers <n>', 'engine workers (default: one per core, each on 1 onnxruntime thread; 1 with --device webgpu, where more run as one process each)', positiveInteger)
    .option('--device <name>', 'where the model runs: cpu|webgpu (env SIGHTLINE_DEVICE; webgpu keeps the KV cache on the GPU)', device)
    .option('--search-db <dir>', 'video search index (LanceDB folder; default <data>/search, what `sightline index` writes by default)')
    .option('--search-model <dir>', 'retrieval encoder folder for search', defaultRetrievalDir())
    .option('--search-variant <name>', 'CLIP/SigLIP search folders: graph files to run (fp16, quantized, ...)')
    .option('--no-search', 'serve without /v1/search and /v1/videos')
    .option('--max-streams <n>', 'at most this many live streams (default: no fixed limit; each device admits streams while its measured load leaves room, else 503)', positiveInteger)
    .option('--source-timeout <s>', 'a live source gone this long ends its stream as failed (default 300; env SIGHTLINE_SOURCE_TIMEOUT_S)', positiveInteger)
    .option('--policy <name>', `KV cache policy of every stream: ${CACHE_POLICIES.join('|')} (docs/engine.md; streaming is the cheapest per second)`, cachePolicyName, DEFAULT_CACHE_POLICY)
    .option('--demo', 'also start a synthetic live match (sightline synth --live) and commentate it')
    .option('--demo-seed <n>', 'seed of the demo match (a held-out seed by default)', positiveInteger, 300007)
    .action(async (opts: ServeOptions) => {
      // No --device/SIGHTLINE_DEVICE: the model's config.json decides (runtime.executionProvider, cpu by default).
      const dev = opts.device ?? (process.env.SIGHTLINE_DEVICE ? device(process.env.SIGHTLINE_DEVICE) : undefined);
      const logger = createLogger((process.env.SIGHTLINE_LOG_LEVEL as LogLevel) ?? 'info');
      // A stream may ask for another device (POST /v1/streams {device}); its pool starts on first use.
      // --workers sizes the default device's pool; another device's pool gets that device's default (1 on a GPU).
      const defaultDevice = dev ?? loadModelFolder(opts.model).config.runtime.executionProvider;
      const workersFor = (provider: string): number =>
        (provider === defaultDevice ? opts.workers : undefined) ?? defaultEngineWorkers(provider);
      const poolsOf = (modelDir: string) => ({
        defaultDevice,
        create: (provider: string) => EnginePool.create({ modelDir, provider, workers: workersFor(provider) }),
        onNotice: (d: string, notice: string) => logger.warn('device fallback', { device: d, notice, model: modelDir }),
      });
      const pools = await DevicePools.create(poolsOf(opts.model));
      // Streams may name a model: the default by its name, and each --allow-model folder (checked now, started on first use).
      const models = new Map<string, DevicePools>([[loadModelFolder(opts.model).config.name, pools]]);
      for (const dir of opts.allowModel ?? []) {
        const name = loadModelFolder(dir).config.name;
        if (models.has(name)) throw new SightlineError('bad_input', `--allow-model ${dir}: a model named "${name}" is already served`);
        models.set(name, new DevicePools(poolsOf(dir)));
      }
      const allPools = [...new Set(models.values())];
      const search = opts.search ? await SearchService.create({ dbPath: searchDbOf(opts.data, opts.searchDb), modelDir: opts.searchModel, variant: opts.searchVariant }) : undefined;
      const engineLoad: EngineLoadSource = () => allPools.flatMap((p) => p.pools().map(({ device: d, pool }) => ({ device: d, load: pool.loadSnapshot() })));
      // Each engine thread's memory; a model other than the default names its threads.
      const engineMemory: ThreadMemorySource = async () =>
        (
          await Promise.all(
            [...models].flatMap(([name, p]) =>
              p.pools().map(async ({ device: d, pool }) => (await pool.threadMemory()).map(({ worker, memory }) => ({ thread: `engine-${p === pools ? '' : `${name}-`}${d}-${worker}`, memory }))),
            ),
          )
        ).flat();
      const server = await startService(
        { ...opts, logger, engineLoad, engineMemory },
        sessionFactory({ pools, models, policy: opts.policy, maxOutageMs: sourceTimeoutMs(opts.sourceTimeout) }),
        search,
        { models: [...models.keys()] },
      );
      process.stdout.write(`sightline serving at ${server.url}\n`);
      const demo = opts.demo ? await startDemo(server, opts.demoSeed) : undefined;
      const shutdown = (): void => {
        void (async () => {
          await demo?.stop();
          await server.close();
          await Promise.all(allPools.map((p) => p.destroy()));
          process.exit(0);
        })();
      };
      process.once('SIGINT', shutdown);
      process.once('SIGTERM', shutdown);
    });
}
