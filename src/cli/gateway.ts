/**
 * `sightline gateway --nats URL`: the HTTP API, WebSocket/SSE fan-out, web page, exports and search of `serve`,
 * for streams that run on the cluster's workers (src/server/cluster-gateway.ts). Keeps no state of its own:
 * its scratch folder is temporary, history comes from JetStream.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { connectCluster } from '../cluster/connect.js';
import { defaultRetrievalDir } from '../model/encoder-folder.js';
import { SearchService } from '../search/service.js';
import { clusterFactory, clusterTranscripts, syncDirectory } from '../server/cluster-gateway.js';
import { createLogger, type LogLevel } from '../server/logger.js';
import { addClusterFlags, leaseMsFromEnv, retentionOf, type ClusterFlags } from './cluster-options.js';
import { nonNegativeInteger, positiveInteger } from './options.js';
import { searchDbOf, startService } from './serve.js';

/** Messages per stream a gateway keeps for viewers who join late or resume (`?since=`): about an hour. */
export const GATEWAY_HISTORY = 3600;

interface GatewayFlags extends ClusterFlags {
  port: number;
  host: string;
  token?: string;
  fileRoot?: string[];
  allowPrivate?: boolean;
  searchDb?: string;
  searchModel: string;
  searchVariant?: string;
  search: boolean;
  history: number;
}

export function registerGateway(program: Command): Command {
  return addClusterFlags(program.command('gateway').description("serve viewers for a cluster: REST API, WebSocket/SSE fan-out, web page, exports and search over the workers' streams"))
    .option('--port <n>', 'port to listen on (0: any free port)', nonNegativeInteger, 8080)
    .option('--host <addr>', 'interface to listen on', '127.0.0.1')
    .option('--token <t>', 'bearer token required for writes and viewing (env SIGHTLINE_TOKEN)')
    .option('--file-root <dir...>', 'folders file sources may be read from (on the workers; env SIGHTLINE_FILE_ROOTS)')
    .option('--allow-private', 'allow network sources on private, link-local and loopback addresses')
    .option('--search-db <dir>', 'video search index (LanceDB folder); default: a scratch folder of this gateway')
    .option('--search-model <dir>', 'retrieval encoder folder for search', defaultRetrievalDir())
    .option('--search-variant <name>', 'CLIP/SigLIP search folders: graph files to run (fp16, quantized, ...)')
    .option('--no-search', 'serve without /v1/search and /v1/videos')
    .option('--history <n>', 'messages per stream kept for late joiners and resuming viewers', positiveInteger, GATEWAY_HISTORY)
    .action(async (opts: GatewayFlags) => {
      const logger = createLogger((process.env.SIGHTLINE_LOG_LEVEL as LogLevel) ?? 'info');
      const cluster = await connectCluster(opts.nats, { name: 'gateway', retention: retentionOf(opts), leaseMs: leaseMsFromEnv() });
      const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'sightline-gateway-'));
      const search = opts.search ? await SearchService.create({ dbPath: searchDbOf(scratch, opts.searchDb), modelDir: opts.searchModel, variant: opts.searchVariant }) : undefined;
      const server = await startService({ ...opts, data: scratch, logger }, clusterFactory(cluster), search, {
        resumeBySecond: true,
        transcripts: clusterTranscripts(cluster),
        fanout: { historySize: opts.history },
      });
      const directory = syncDirectory(cluster, server.manager, logger);
      await directory.synced;
      process.stdout.write(`sightline gateway at ${server.url} on ${opts.nats}\n`);
      const shutdown = (): void => {
        void (async () => {
          directory.stop();
          await server.close();
          await cluster.close().catch(() => undefined);
          fs.rmSync(scratch, { recursive: true, force: true });
          process.exit(0);
        })();
      };
      process.once('SIGINT', shutdown);
      process.once('SIGTERM', shutdown);
    });
}
