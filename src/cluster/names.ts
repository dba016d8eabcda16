/**
 * Names shared by workers and gateways: the JetStream stream of segments, its subjects, and the KV buckets.
 * One place, so both roles (and the tests) agree on them.
 */

/** JetStream stream holding every commentary, gap, error and end message of every Sightline stream. */
export const SEGMENT_STREAM = 'SIGHTLINE_SEGMENTS';
/** Subject of one stream's durable messages: every reader filters on it. */
export const segmentSubject = (streamId: string): string => `sightline.seg.${streamId}`;
/** Core-NATS subject of one stream's status (ephemeral: only the latest matters, so not stored). */
export const statusSubject = (streamId: string): string => `sightline.status.${streamId}`;

/** KV bucket of wanted streams: key = stream id, value = WantedStream (wire.ts). */
export const STREAMS_BUCKET = 'sightline-streams';
/** KV bucket of leases: key = stream id, value = the worker running it; entries expire unless renewed. */
export const LEASES_BUCKET = 'sightline-leases';
/** KV bucket of live workers: key = worker id, value = its announced free capacity; expires unless renewed. */
export const WORKERS_BUCKET = 'sightline-workers';

/**
 * Message ids for JetStream's de-duplication: one per stream second, so a stream that moved to another worker
 * cannot publish a second twice (within the duplicate window).
 */
export const commentaryMsgId = (streamId: string, startSec: number): string => `${streamId}:${startSec}`;
export const gapMsgId = (streamId: string, startSec: number): string => `${streamId}:gap:${startSec}`;
export const endMsgId = (streamId: string): string => `${streamId}:end`;
