/**
 * The cluster's shared state as both roles read and change it: wanted streams, leases, live workers, status.
 * Gateways (src/server) use only this and segment-log.ts, never NATS directly.
 */
import type { SessionEvent } from '../stream/events.js';
import type { KV } from '@nats-io/kv';
import type { Cluster } from './connect.js';
import { SEGMENT_STREAM, STREAMS_BUCKET, WORKERS_BUCKET, endMsgId, segmentSubject, statusSubject } from './names.js';
import { Lease, WantedStream, WorkerInfo, decode, encode } from './wire.js';

/**
 * The keys of a bucket that hold a value now, from its stream's per-subject counts: one request, answered or
 * timed out. Not kv.keys(): that runs a consumer and waits, with no deadline of its own, for the last key or a
 * heartbeat; a listing that never ends would hold up a gateway's POST or a worker's every later tick (the likely
 * cause of a cluster test that hung on CI).
 */
async function bucketKeys(cluster: Cluster, bucket: string): Promise<string[]> {
  const prefix = `$KV.${bucket}.`;
  const info = await cluster.jsm.streams.info(`KV_${bucket}`, { subjects_filter: `${prefix}>` });
  return Object.keys(info.state.subjects ?? {}).map((subject) => subject.slice(prefix.length));
}

/** Each key's current value that `parse` accepts (deleted, purged and expired keys are left out). */
async function liveValues<T>(cluster: Cluster, kv: KV, bucket: string, parse: (value: Uint8Array) => T | undefined): Promise<Map<string, T>> {
  const keys = await bucketKeys(cluster, bucket);
  const entries = await Promise.all(keys.map((key) => kv.get(key))); // asked together, not one after another
  const out = new Map<string, T>();
  keys.forEach((key, i) => {
    const entry = entries[i];
    const value = entry && entry.operation === 'PUT' ? parse(entry.value) : undefined;
    if (value) out.set(key, value);
  });
  return out;
}

/** Every stream in STREAMS_BUCKET (any state), by id. */
export function listWanted(cluster: Cluster): Promise<Map<string, WantedStream>> {
  return liveValues(cluster, cluster.streams, STREAMS_BUCKET, (v) => decode(WantedStream, v));
}

/** Workers that announced themselves within the lease time. */
export async function liveWorkers(cluster: Cluster): Promise<WorkerInfo[]> {
  return [...(await liveValues(cluster, cluster.workers, WORKERS_BUCKET, (v) => decode(WorkerInfo, v))).values()];
}

/** The worker holding a stream's lease, or undefined when none does (unplaced, or moving). */
export async function leaseHolder(cluster: Cluster, streamId: string): Promise<string | undefined> {
  const entry = await cluster.leases.get(streamId);
  return entry && entry.operation === 'PUT' ? decode(Lease, entry.value)?.worker : undefined;
}

/** Adds a wanted stream; some worker with room claims it. */
export async function wantStream(cluster: Cluster, spec: WantedStream): Promise<void> {
  await cluster.streams.create(spec.id, encode(spec));
}

/**
 * Asks for a stream to stop: marked `stopped` (its worker stops it at its next tick) and its `end` stored
 * (de-duplicated, so a worker's own end cannot double it).
 */
export async function stopStream(cluster: Cluster, streamId: string): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const entry = await cluster.streams.get(streamId);
    const spec = entry && entry.operation === 'PUT' ? decode(WantedStream, entry.value) : undefined;
    if (!spec || spec.state !== 'wanted') break;
    try {
      await cluster.streams.update(streamId, encode({ ...spec, state: 'stopped' }), entry!.revision);
      break;
    } catch {
      // changed under us (a worker marked it ended): read again
    }
  }
  const end: SessionEvent = { type: 'end', stream: streamId };
  await cluster.js.publish(segmentSubject(streamId), JSON.stringify(end), { msgID: endMsgId(streamId) });
}

/** Changes a running stream's instruction: its worker applies it at its next tick (set_prompt on a gateway). */
export async function setStreamPrompt(cluster: Cluster, streamId: string, prompt: string): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const entry = await cluster.streams.get(streamId);
    const spec = entry && entry.operation === 'PUT' ? decode(WantedStream, entry.value) : undefined;
    if (!spec || spec.state !== 'wanted') return;
    try {
      await cluster.streams.update(streamId, encode({ ...spec, prompt }), entry!.revision);
      return;
    } catch {
      // changed under us: read again
    }
  }
}

/** Deletes a stream's entry and its whole log (DELETE ?purge=true); gateways forget it at their next sync. */
export async function purgeStream(cluster: Cluster, streamId: string): Promise<void> {
  await cluster.streams.purge(streamId);
  await cluster.jsm.streams.purge(SEGMENT_STREAM, { filter: segmentSubject(streamId) });
}

/** Hears a stream's status messages (ephemeral, from the worker running it). */
export function onStatus(cluster: Cluster, streamId: string, listener: (e: SessionEvent) => void): { stop(): void } {
  const sub = cluster.nc.subscribe(statusSubject(streamId), {
    callback: (err, msg) => {
      if (err) return;
      try {
        listener(msg.json<SessionEvent>());
      } catch {
        // not ours
      }
    },
  });
  return { stop: () => sub.unsubscribe() };
}
