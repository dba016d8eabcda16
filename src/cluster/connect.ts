/**
 * One connection to the cluster: the NATS connection, JetStream, and the buckets and stream both roles use,
 * created on first use (idempotent: every worker and gateway ensures them at start).
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { SightlineError } from '../errors.js';
import { LEASES_BUCKET, SEGMENT_STREAM, STREAMS_BUCKET, WORKERS_BUCKET, segmentSubject } from './names.js';

/** How long segments are kept (a stream's transcript and every gateway's replay read them). */
export interface Retention {
  /** Oldest message kept, in seconds (default 7 days; 0: no age limit). */
  maxAgeSec?: number;
  /** Most bytes kept for all streams together (default 1 GiB; -1: no limit); the oldest go first. */
  maxBytes?: number;
}

export const DEFAULT_RETENTION_AGE_SEC = 7 * 24 * 3600;
export const DEFAULT_RETENTION_BYTES = 1024 ** 3;
/**
 * A lease not renewed for this long expires and its stream moves (the server deletes it: no clock is compared).
 * Renewed every second, so two missed renewals are tolerated; with the restart and the first second, a killed
 * worker's stream speaks again within about 3 + 1 + 2 s (bench/cluster-failover.ts), under the 10 s goal.
 */
export const DEFAULT_LEASE_MS = 3000;
/** JetStream's de-duplication window: a second re-published within it by a moved stream is dropped. */
const DUPLICATE_WINDOW_NS = 10 * 60 * 1e9;

export interface ClusterOptions {
  /** Client name shown by the server (e.g. "worker w1"). */
  name: string;
  /** Absent: an existing stream keeps its limits; a new one gets the defaults. */
  retention?: Retention;
  leaseMs?: number;
}

export interface Cluster {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly streams: KV;
  readonly leases: KV;
  readonly workers: KV;
  readonly leaseMs: number;
  close(): Promise<void>;
}

/**
 * Connects and ensures the buckets and the segment stream. An unreachable URL (or a server without JetStream)
 * is one `cluster_unreachable` error naming the URL and the cause; later outages are retried forever.
 */
export async function connectCluster(url: string, o: ClusterOptions): Promise<Cluster> {
  let nc: NatsConnection;
  try {
    nc = await connect({ servers: url, name: `sightline ${o.name}`, maxReconnectAttempts: -1, reconnectTimeWait: 500, timeout: 5000 });
  } catch (err) {
    throw new SightlineError('cluster_unreachable', `cannot reach NATS at ${url}: ${(err as Error).message}`, { cause: err });
  }
  try {
    const jsm = await jetstreamManager(nc);
    const leaseMs = o.leaseMs ?? DEFAULT_LEASE_MS;
    await ensureSegmentStream(jsm, o.retention);
    const kvm = new Kvm(nc);
    // history 1: only the latest value matters; file storage so wanted streams survive a server restart.
    const streams = await kvm.create(STREAMS_BUCKET, { history: 1 });
    const leases = await kvm.create(LEASES_BUCKET, { history: 1, ttl: leaseMs });
    const workers = await kvm.create(WORKERS_BUCKET, { history: 1, ttl: leaseMs });
    return { nc, js: jetstream(nc), jsm, streams, leases, workers, leaseMs, close: () => nc.drain() };
  } catch (err) {
    await nc.close().catch(() => undefined);
    throw new SightlineError('cluster_unreachable', `NATS at ${url} has no usable JetStream (start nats-server with -js): ${(err as Error).message}`, { cause: err });
  }
}

/** Creates the segment stream, or brings an existing one's retention to what this process was given. */
async function ensureSegmentStream(jsm: JetStreamManager, r: Retention | undefined): Promise<void> {
  const limits = {
    max_age: (r?.maxAgeSec ?? DEFAULT_RETENTION_AGE_SEC) * 1e9,
    max_bytes: r?.maxBytes ?? DEFAULT_RETENTION_BYTES,
    duplicate_window: DUPLICATE_WINDOW_NS,
  };
  try {
    const info = await jsm.streams.info(SEGMENT_STREAM);
    // Only a process given retention changes it (one that was not keeps what the cluster has).
    if (r && (info.config.max_age !== limits.max_age || info.config.max_bytes !== limits.max_bytes)) await jsm.streams.update(SEGMENT_STREAM, { ...info.config, ...limits });
  } catch (err) {
    if (!/stream not found/i.test((err as Error).message)) throw err;
    await jsm.streams.add({ name: SEGMENT_STREAM, subjects: [segmentSubject('*')], ...limits });
  }
}
