/**
 * `sightline worker --nats URL`: runs ingest + engine for the streams it claims from the cluster (src/cluster/worker.ts).
 * No HTTP: gateways serve viewers. Stops cleanly on SIGINT/SIGTERM, handing its streams to the other workers.
 */
import os from 'node:os';
import type { Command } from 'commander';
import { connectCluster } from '../cluster/connect.js';
import { StreamWorker } from '../cluster/worker.js';
import { defaultModelDir } from '../model/default-model.js';
import { loadModelFolder } from '../model/model-folder.js';
import { defaultEngineWorkers, EnginePool } from '../model/pool.js';
import type { Device } from '../model/providers.js';
import { createLogger, type LogLevel } from '../server/logger.js';
import { addClusterFlags, leaseMsFromEnv, retentionOf, type ClusterFlags } from './cluster-options.js';
import { positiveInteger } from './options.js';
import { device } from './watch.js';

interface WorkerFlags extends ClusterFlags {
  id?: string;
  model: string;
  workers?: number;
  device?: Device;
  maxStreams?: number;
  sourceTimeout?: number;
}

export function registerWorker(program: Command): Command {
  return addClusterFlags(
    program
      .command('worker')
      .description('run streams for a cluster: claims wanted streams from NATS JetStream, runs ingest + engine, publishes commentary'),
  )
    .option('--id <name>', 'worker name, unique in the cluster (default: <hostname>-<pid>)')
    .option('--model <dir>', 'commentary model folder (docs/model-format.md); default: the shipped model', defaultModelDir())
    .option('--workers <n>', 'engine workers (default: one per core)', positiveInteger)
    .option('--device <name>', 'where the model runs: cpu|webgpu', device)
    .option('--max-streams <n>', 'run at most this many streams here (default: as many as the measured load admits)', positiveInteger)
    .option('--source-timeout <s>', 'a live source gone this long ends its stream as failed (default 300)', positiveInteger)
    .action(async (opts: WorkerFlags) => {
      const logger = createLogger((process.env.SIGHTLINE_LOG_LEVEL as LogLevel) ?? 'info');
      const id = opts.id ?? `${os.hostname()}-${process.pid}`;
      const cluster = await connectCluster(opts.nats, { name: `worker ${id}`, retention: retentionOf(opts), leaseMs: leaseMsFromEnv() });
      const provider = opts.device ?? loadModelFolder(opts.model).config.runtime.executionProvider;
      const engine = await EnginePool.create({ modelDir: opts.model, provider, workers: opts.workers ?? defaultEngineWorkers(provider) });
      const worker = new StreamWorker({
        id,
        cluster,
        engine,
        log: logger,
        ...(opts.maxStreams !== undefined ? { maxStreams: opts.maxStreams } : {}),
        ...(opts.sourceTimeout !== undefined ? { maxOutageMs: opts.sourceTimeout * 1000 } : {}),
      });
      worker.start();
      process.stdout.write(`sightline worker ${id} on ${opts.nats}\n`);
      const shutdown = (): void => {
        void (async () => {
          await worker.stop();
          await cluster.close().catch(() => undefined);
          await engine.destroy();
          process.exit(0);
        })();
      };
      process.once('SIGINT', shutdown);
      process.once('SIGTERM', shutdown);
    });
}
