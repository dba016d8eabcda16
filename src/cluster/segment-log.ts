/**
 * A stream's durable messages in JetStream (subject per stream): the worker's publisher and the readers.
 *
 * Published: every session event except status (commentary, gap, error, end) as its JSON, with a message id
 * per stream second (names.ts), so JetStream drops a second a moved stream publishes again. The publisher
 * keeps order and retries through a NATS outage (bounded queue: the oldest is dropped, and said, past it).
 */
import { DeliverPolicy, type JsMsg } from '@nats-io/jetstream';
import type { SessionEvent } from '../stream/events.js';
import type { Cluster } from './connect.js';
import { SEGMENT_STREAM, commentaryMsgId, endMsgId, gapMsgId, segmentSubject } from './names.js';

/** Most messages waiting for NATS before the oldest is dropped (about an hour of one stream). */
export const MAX_QUEUED_MESSAGES = 4096;
const RETRY_MS = 500;

/** A durable message as a reader sees it: the event, its JetStream sequence and when the server stored it. */
export interface LoggedEvent {
  event: SessionEvent;
  seq: number;
  storedMs: number;
}

interface Pending {
  streamId: string;
  event: SessionEvent;
  subject: string;
  data: Uint8Array;
  msgID?: string;
}

export class SegmentPublisher {
  private readonly queue: Pending[] = [];
  /** Per stream, the seconds dropped from the queue and not yet reported as a gap. */
  private readonly lost = new Map<string, { start: number; end: number }>();
  private running = false;
  private closed = false;
  dropped = 0;

  constructor(
    private readonly cluster: Pick<Cluster, 'js'>,
    private readonly onError: (message: string) => void = () => undefined,
    private readonly maxQueued = MAX_QUEUED_MESSAGES,
  ) {}

  /** Queues one event of `streamId` for publishing (status events are not durable: use publishStatus). */
  publish(streamId: string, event: SessionEvent): void {
    if (event.type === 'status') return;
    // Seconds dropped while NATS was away are stored as a gap before the next message: visible, never silent.
    const lost = this.lost.get(streamId);
    if (lost && event.type !== 'end') {
      this.lost.delete(streamId);
      this.enqueue(streamId, { type: 'gap', stream: streamId, start: lost.start, end: lost.end, reason: 'lost: NATS was unreachable longer than the worker could queue' });
    }
    this.enqueue(streamId, event);
    void this.pump();
  }

  private enqueue(streamId: string, event: SessionEvent): void {
    const msgID =
      event.type === 'commentary' ? commentaryMsgId(streamId, event.start) : event.type === 'gap' ? gapMsgId(streamId, event.start) : event.type === 'end' ? endMsgId(streamId) : undefined;
    this.queue.push({ streamId, event, subject: segmentSubject(streamId), data: new TextEncoder().encode(JSON.stringify({ ...event, stream: streamId })), ...(msgID ? { msgID } : {}) });
    if (this.queue.length <= this.maxQueued) return;
    // The head may be in flight (the pump shifts it once stored): drop the one after it then.
    const dropped = this.queue.splice(this.running ? 1 : 0, 1)[0];
    this.dropped++;
    this.onError(`NATS unreachable: dropped the oldest queued message (${this.dropped} so far)`);
    const e = dropped.event;
    if (e.type === 'commentary' || e.type === 'gap') {
      const was = this.lost.get(dropped.streamId);
      this.lost.set(dropped.streamId, { start: Math.min(was?.start ?? e.start, e.start), end: Math.max(was?.end ?? e.end, e.end) });
    }
  }

  /** Resolves once everything queued so far is stored (or the publisher is closed). */
  async flushed(): Promise<void> {
    while (this.queue.length > 0 && !this.closed) await new Promise((r) => setTimeout(r, 20));
  }

  close(): void {
    this.closed = true;
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        const next = this.queue[0];
        try {
          await this.cluster.js.publish(next.subject, next.data, next.msgID ? { msgID: next.msgID } : undefined);
          if (this.queue[0] === next) this.queue.shift();
        } catch (err) {
          this.onError(`publishing to NATS failed, retrying: ${(err as Error).message}`);
          await new Promise((r) => setTimeout(r, RETRY_MS));
        }
      }
    } finally {
      this.running = false;
    }
  }
}

function toLogged(m: JsMsg): LoggedEvent | undefined {
  try {
    return { event: m.json<SessionEvent>(), seq: m.seq, storedMs: Math.floor(m.info.timestampNanos / 1e6) };
  } catch {
    return undefined; // not JSON: not ours
  }
}

/** The JetStream sequence of a stream's last durable message, or 0 when it has none. */
export async function lastSeqOf(cluster: Cluster, streamId: string): Promise<number> {
  try {
    const m = await cluster.jsm.streams.getMessage(SEGMENT_STREAM, { last_by_subj: segmentSubject(streamId) });
    return m?.seq ?? 0;
  } catch {
    return 0;
  }
}

/** Every durable message of a stream still retained, in order (the transcript, and a moved stream's resume point). */
export async function readLog(cluster: Cluster, streamId: string): Promise<LoggedEvent[]> {
  const last = await lastSeqOf(cluster, streamId);
  const out: LoggedEvent[] = [];
  if (last === 0) return out;
  const consumer = await cluster.js.consumers.get(SEGMENT_STREAM, { filter_subjects: segmentSubject(streamId), deliver_policy: DeliverPolicy.All });
  const messages = await consumer.consume();
  for await (const m of messages) {
    const logged = toLogged(m);
    if (logged) out.push(logged);
    if (m.seq >= last || m.info.pending === 0) break;
  }
  await messages.close();
  return out;
}

/**
 * Follows a stream's durable messages from the first retained one, live, until stopped. Ordered consumer:
 * recreated by the client after a NATS restart, resuming after the last sequence delivered.
 */
export async function followLog(cluster: Cluster, streamId: string, onEvent: (e: LoggedEvent) => void): Promise<{ stop(): Promise<void> }> {
  const consumer = await cluster.js.consumers.get(SEGMENT_STREAM, { filter_subjects: segmentSubject(streamId), deliver_policy: DeliverPolicy.All });
  const messages = await consumer.consume();
  const done = (async () => {
    for await (const m of messages) {
      const logged = toLogged(m);
      if (logged) onEvent(logged);
    }
  })().catch(() => undefined);
  return {
    async stop() {
      await messages.close();
      await done;
    },
  };
}
