/**
 * Per-stream fan-out of published messages to any number of viewers (WebSocket or SSE).
 *
 *   session event --publish()--> serialize ONCE to an Outbound --> history ring (bounded)
 *                                                            \--> every viewer.write(sameOutbound)
 *
 * An Outbound carries the JSON bytes and a slot where a transport caches its own framing of them
 * (the WebSocket frame is built once per message, not once per viewer).
 *
 * Rules:
 * - The producer never waits: `publish` serializes, then hands the same bytes to each sink. Up to
 *   `sendBatch` viewers are served inline; beyond that the broadcast continues in batches on later
 *   macrotasks (FIFO, so order per viewer holds), keeping the producer and the event loop free.
 * - Each viewer has a bounded outbound queue (`maxQueueBytes`, measured by the sink: ws
 *   `bufferedAmount`, or the SSE response's `writableLength`). A write that would pass the bound
 *   closes that viewer as a slow consumer instead (WS close 4008); other viewers are unaffected.
 * - A late joiner gets `hello`, then the history (last `historySize` commentary/error/end
 *   messages plus the latest status, in seq order), then live messages. Seq numbers let a
 *   client that reconnects drop what it has already seen.
 */
import type { SessionEvent } from '../stream/events.js';
import type { WsClose } from './errors.js';
import type { PublishedMessage, ServerMessage } from './schemas.js';

/** Default history kept per stream for late joiners: 100 messages (~100 s of commentary). */
export const DEFAULT_HISTORY_SIZE = 100;
/** Default bound on bytes queued towards one viewer before it is dropped: 1 MiB. */
export const DEFAULT_MAX_QUEUE_BYTES = 1024 * 1024;
/** Default viewers served per macrotask during a broadcast. */
export const DEFAULT_SEND_BATCH = 256;
/** Broadcasts waiting to finish before publish drains them inline (a guard; never hit at 1-2 msg/s). */
const MAX_PENDING_BROADCASTS = 256;

/** One serialized message, shared by every viewer. */
export interface Outbound {
  readonly json: Buffer;
  /** Stream sequence number (absent for hello and per-viewer replies). */
  readonly seq?: number;
  /** The WebSocket text frame of `json`, built by the first WebSocket viewer and reused. */
  wsFrame?: Buffer;
  /** Stream time of a published message (what `since` compares; absent for hello and replies). */
  readonly time?: number;
  /** The SSE `id:` when it is not the seq (a gateway's: the stream second to resume from). */
  readonly sseId?: string;
  /** The SSE event (`id:` + `data:` lines), built by the first SSE viewer and reused. */
  sseFrame?: Buffer;
}

export interface ViewerSink {
  /** Bytes accepted for this viewer but not yet taken by the kernel. */
  queuedBytes(): number;
  /** Sends one serialized message (JSON text). Must not block. */
  write(message: Outbound): void;
  /** Closes because the queue is full (WS: 4008 "slow consumer"). */
  closeSlow(): void;
  /** Closes after the last message: normally, or with the stream's failure (WebSocket close code). */
  closeNormal(failure?: WsClose): void;
}

export interface FanoutOptions {
  historySize?: number;
  maxQueueBytes?: number;
  sendBatch?: number;
  /** Called once per viewer dropped as a slow consumer (metrics, logs). */
  onSlowViewer?: (streamId: string) => void;
  /**
   * SSE ids are stream seconds (a commentary's end), not seqs: a cluster's gateways number messages each their
   * own way but agree on seconds, so Last-Event-ID resumes on any of them.
   */
  sseIdBySecond?: boolean;
  /** Called when a message has been handed to every viewer, with the time since publish. */
  onBroadcastDone?: (elapsedMs: number, viewers: number) => void;
}

interface Entry {
  seq: number;
  /** Stream time of the message (a commentary's start): what `since` compares. */
  time: number;
  out: Outbound;
}

/** A message still being handed out: the viewers present at publish time, and how far we got. */
interface Broadcast {
  out: Outbound;
  viewers: ViewerSink[];
  next: number;
  startMs: number;
}

export class FanoutHub {
  readonly streamId: string;
  private readonly historySize: number;
  private readonly maxQueueBytes: number;
  private readonly onSlowViewer?: (streamId: string) => void;
  private readonly onBroadcastDone?: (elapsedMs: number, viewers: number) => void;
  private readonly viewers = new Set<ViewerSink>();
  /** Viewers that resumed by stream second: messages before it are not sent to them. */
  private readonly sinceOf = new Map<ViewerSink, number>();
  /** Ring of the last `historySize` non-status messages; `ringStart` is the oldest slot. */
  private readonly ring: Entry[] = [];
  private ringStart = 0;
  private latestStatus: Entry | undefined;
  private nextSeq = 0;
  private lastTimeSec = 0;
  private ended = false;
  private readonly sendBatch: number;
  private readonly sseIdBySecond: boolean;
  private readonly pending: Broadcast[] = [];
  private drainScheduled = false;

  constructor(streamId: string, options: FanoutOptions = {}) {
    this.streamId = streamId;
    this.historySize = options.historySize ?? DEFAULT_HISTORY_SIZE;
    this.maxQueueBytes = options.maxQueueBytes ?? DEFAULT_MAX_QUEUE_BYTES;
    this.onSlowViewer = options.onSlowViewer;
    this.sendBatch = options.sendBatch ?? DEFAULT_SEND_BATCH;
    this.onBroadcastDone = options.onBroadcastDone;
    this.sseIdBySecond = options.sseIdBySecond ?? false;
  }

  get viewerCount(): number {
    return this.viewers.size;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** Converts a session event to its wire message, assigns seq/time, and sends it to everyone. */
  publish(event: SessionEvent): PublishedMessage {
    const message = this.toMessage(event);
    const out: Outbound = { json: Buffer.from(JSON.stringify(message)), seq: message.seq, time: message.time, ...(this.sseIdBySecond ? sseSecond(message) : {}) };
    const entry = { seq: message.seq, time: message.time, out };
    if (message.type === 'status') this.latestStatus = entry;
    else this.remember(entry);
    const startMs = performance.now();
    if (this.pending.length === 0 && this.viewers.size <= this.sendBatch) {
      const count = this.viewers.size;
      for (const viewer of this.viewers) this.send(viewer, out);
      this.onBroadcastDone?.(performance.now() - startMs, count);
    } else {
      this.pending.push({ out, viewers: [...this.viewers], next: 0, startMs });
      if (this.pending.length > MAX_PENDING_BROADCASTS) this.drain(Infinity);
      else this.scheduleDrain();
    }
    if (message.type === 'end') this.ended = true;
    return message;
  }

  /**
   * Adds a viewer: hello, history, then live. `afterSeq` (a resuming client's last seen seq) leaves
   * out history it already has; so does `sinceSec` (it has every second before it: history starts there).
   * If the stream has ended the viewer is closed after the history.
   */
  attach(viewer: ViewerSink, hello: (historyCount: number) => ServerMessage, afterSeq = -1, sinceSec?: number): void {
    const history = this.history().filter((e) => e.seq > afterSeq && (sinceSec === undefined || e.time >= sinceSec));
    // Live messages older than `since` are held back too: a gateway still replaying its log publishes them late.
    if (sinceSec !== undefined) this.sinceOf.set(viewer, sinceSec);
    if (!this.send(viewer, { json: Buffer.from(JSON.stringify(hello(history.length))) })) return;
    for (const entry of history) if (!this.send(viewer, entry.out)) return;
    if (this.ended) {
      viewer.closeNormal();
      return;
    }
    this.viewers.add(viewer);
  }

  detach(viewer: ViewerSink): void {
    this.viewers.delete(viewer);
    this.sinceOf.delete(viewer);
  }

  /** Sends a message to one viewer only (pong, in-band errors). */
  sendTo(viewer: ViewerSink, message: ServerMessage): void {
    this.send(viewer, { json: Buffer.from(JSON.stringify(message)) });
  }

  /** Closes every viewer after what was published (stream ended, deleted, or server closing). */
  closeAll(failure?: WsClose): void {
    this.drain(Infinity);
    for (const viewer of this.viewers) viewer.closeNormal(failure);
    this.viewers.clear();
  }

  /** History in seq order: ring entries with the latest status slotted in by seq. */
  history(): Entry[] {
    const list: Entry[] = [];
    for (let i = 0; i < this.ring.length; i++) list.push(this.ring[(this.ringStart + i) % this.ring.length]);
    if (this.latestStatus) {
      const at = list.findIndex((e) => e.seq > this.latestStatus!.seq);
      list.splice(at < 0 ? list.length : at, 0, this.latestStatus);
    }
    return list;
  }

  private scheduleDrain(): void {
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    setImmediate(() => {
      this.drainScheduled = false;
      this.drain(this.sendBatch);
    });
  }

  /** Continues pending broadcasts in order, serving at most `budget` viewers. */
  private drain(budget: number): void {
    while (this.pending.length > 0 && budget > 0) {
      const b = this.pending[0];
      while (b.next < b.viewers.length && budget > 0) {
        const viewer = b.viewers[b.next++];
        budget--;
        if (this.viewers.has(viewer)) this.send(viewer, b.out);
      }
      if (b.next >= b.viewers.length) {
        this.pending.shift();
        this.onBroadcastDone?.(performance.now() - b.startMs, b.viewers.length);
      }
    }
    if (this.pending.length > 0) this.scheduleDrain();
  }

  private remember(entry: Entry): void {
    if (this.historySize <= 0) return;
    if (this.ring.length < this.historySize) {
      this.ring.push(entry);
      return;
    }
    this.ring[this.ringStart] = entry;
    this.ringStart = (this.ringStart + 1) % this.historySize;
  }

  /** Returns false (and drops the viewer) when the write would pass its queue bound. */
  private send(viewer: ViewerSink, out: Outbound): boolean {
    if (out.time !== undefined && this.sinceOf.size > 0 && out.time < (this.sinceOf.get(viewer) ?? -Infinity)) return true;
    if (viewer.queuedBytes() + out.json.length > this.maxQueueBytes) {
      this.viewers.delete(viewer);
      viewer.closeSlow();
      this.onSlowViewer?.(this.streamId);
      return false;
    }
    viewer.write(out);
    return true;
  }

  private toMessage(event: SessionEvent): PublishedMessage {
    const base = { stream: this.streamId, seq: this.nextSeq++, wallMs: Date.now() };
    switch (event.type) {
      case 'commentary':
        this.lastTimeSec = Math.max(this.lastTimeSec, event.end);
        return { ...event, ...base, time: event.start };
      case 'status':
        this.lastTimeSec = Math.max(this.lastTimeSec, event.time);
        return { ...event, ...base, time: event.time };
      case 'gap':
        this.lastTimeSec = Math.max(this.lastTimeSec, event.end);
        return { ...event, ...base, time: event.start };
      case 'error':
        return { ...event, ...base, time: this.lastTimeSec };
      case 'end':
        return { ...event, ...base, time: this.lastTimeSec };
    }
  }
}

/** A gateway's SSE id: the second a client resumes from (a commentary's or gap's end); none for status. */
function sseSecond(message: PublishedMessage): { sseId?: string } {
  if (message.type === 'status') return {};
  return { sseId: String(message.type === 'commentary' || message.type === 'gap' ? message.end : message.time) };
}
