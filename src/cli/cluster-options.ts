/** Flags both cluster roles take (`worker`, `gateway`): the NATS URL and how long segments are kept. */
import type { Command } from 'commander';
import type { Retention } from '../cluster/connect.js';
import { DEFAULT_RETENTION_AGE_SEC, DEFAULT_RETENTION_BYTES } from '../cluster/connect.js';
import { positiveInteger } from './options.js';

export interface ClusterFlags {
  nats: string;
  retentionAge?: number;
  retentionBytes?: number;
}

export function addClusterFlags(cmd: Command): Command {
  return cmd
    .requiredOption('--nats <url>', 'NATS server with JetStream (e.g. nats://10.0.0.5:4222; env SIGHTLINE_NATS)', process.env.SIGHTLINE_NATS)
    .option('--retention-age <s>', `keep segments this many seconds (default ${DEFAULT_RETENTION_AGE_SEC}, 7 days; applied to the cluster's segment stream)`, positiveInteger)
    .option('--retention-bytes <n>', `keep at most this many bytes of segments, oldest dropped first (default ${DEFAULT_RETENTION_BYTES})`, positiveInteger);
}

/** Retention as given: absent flags leave an existing stream's limits as they are. */
export function retentionOf(flags: ClusterFlags): Retention | undefined {
  if (flags.retentionAge === undefined && flags.retentionBytes === undefined) return undefined;
  return { ...(flags.retentionAge !== undefined ? { maxAgeSec: flags.retentionAge } : {}), ...(flags.retentionBytes !== undefined ? { maxBytes: flags.retentionBytes } : {}) };
}

/** Lease time for tests and tuning (SIGHTLINE_LEASE_MS); default connect.ts's. */
export function leaseMsFromEnv(): number | undefined {
  const n = Number(process.env.SIGHTLINE_LEASE_MS);
  return Number.isInteger(n) && n >= 1000 ? n : undefined;
}
