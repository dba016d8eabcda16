/**
 * The gateway side of a cluster (`sightline gateway`): the same server, whose streams run on workers.
 *
 * - A stream created here is written to the cluster's wanted streams (admitted only while some live worker
 *   announces room: else 503 device_full); a stream created on another gateway is adopted by the directory
 *   sync below. Either way its runner follows the stream's durable log in JetStream from the first retained
 *   message (so every gateway holds the same history) and the worker's status messages.
 * - While no worker holds the stream's lease (no worker has room, or it is moving), its status says so.
 * - DELETE marks it stopped and stores its end; shutting a gateway down only lets go (release()); set_prompt is
 *   stored with the stream and applied by its worker.
 */
import { EventEmitter } from 'node:events';
import { SightlineError } from '../errors.js';
import type { Cluster } from '../cluster/connect.js';
import { leaseHolder, listWanted, liveWorkers, onStatus, purgeStream, setStreamPrompt, stopStream, wantStream } from '../cluster/directory.js';
import { followLog, readLog } from '../cluster/segment-log.js';
import type { WantedStream } from '../cluster/wire.js';
import type { SessionEvent, StatusEvent } from '../stream/events.js';
import type { Logger } from './logger.js';
import type { TranscriptSource } from './routes/transcripts.js';
import type { StreamFactory, StreamRunner, StreamSpec, StreamStats } from './runner.js';
import type { StreamManager } from './streams.js';
import type { Segment } from './transcript-store.js';

/** How often a gateway checks that its streams have a worker, and looks for streams created elsewhere. */
export const DIRECTORY_POLL_MS = 1000;
/** Retry-After when no worker has room. */
const NO_ROOM_RETRY_SEC = 10;

/** A NATS failure while serving a request is a 503 that names it (retry soon), not an internal error. */
async function viaNats<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof SightlineError) throw err;
    throw new SightlineError('cluster_unreachable', `${what}: NATS did not answer (${(err as Error).message})`, { cause: err, retryAfterSec: 5 });
  }
}

const IDLE: StreamStats = { state: 'starting', time: 0, ingestFps: 0, drops: 0, lagSec: 0, stepLatencyMs: 0, cacheBytes: 0, skippedSeconds: 0 };

class ClusterRunner extends EventEmitter implements StreamRunner {
  readonly id: string;
  readonly source: string;
  private last: StreamStats = IDLE;
  private lastStatusMs = 0;
  private follow?: { stop(): Promise<void> };
  private status?: { stop(): void };
  private watch?: NodeJS.Timeout;
  private ended = false;

  constructor(
    private readonly spec: WantedStream,
    private readonly cluster: Cluster,
    private readonly create: boolean,
  ) {
    super();
    this.id = spec.id;
    this.source = spec.source;
  }

  /** A new stream needs a live worker announcing room (placement then picks the roomiest). */
  async admit(): Promise<void> {
    if (!this.create) return;
    const workers = await viaNats(`admitting stream "${this.id}"`, () => liveWorkers(this.cluster));
    if (workers.some((w) => w.free > 0)) return;
    const why = workers.length === 0 ? 'no worker is running' : `all ${workers.length} live worker${workers.length === 1 ? ' is' : 's are'} full`;
    throw new SightlineError('device_full', `no worker can take stream "${this.id}": ${why}`, { retryAfterSec: NO_ROOM_RETRY_SEC });
  }

  async start(): Promise<void> {
    if (this.create) await viaNats(`starting stream "${this.id}"`, () => wantStream(this.cluster, this.spec));
    this.status = onStatus(this.cluster, this.id, (e) => this.onEvent(e));
    this.follow = await viaNats(`following stream "${this.id}"`, () => followLog(this.cluster, this.id, (l) => this.onEvent(l.event)));
    this.watch = setInterval(() => void this.checkPlaced().catch(() => undefined), DIRECTORY_POLL_MS * 2);
    this.watch.unref();
  }

  private onEvent(e: SessionEvent): void {
    if (this.ended) return;
    if (e.type === 'status') {
      this.last = pickStats(e);
      this.lastStatusMs = Date.now();
    }
    if (e.type === 'end') this.ended = true;
    this.emit('event', e);
    if (this.ended) void this.release();
  }

  /** No status lately and no lease: the stream waits for a worker; its status says so (never silently queued). */
  private async checkPlaced(): Promise<void> {
    if (this.ended || Date.now() - this.lastStatusMs < DIRECTORY_POLL_MS * 3) return;
    if ((await leaseHolder(this.cluster, this.id)) !== undefined) return;
    const workers = await liveWorkers(this.cluster);
    const free = workers.reduce((n, w) => n + w.free, 0);
    const reason = `waiting for a worker: none runs this stream now (${workers.length} live, ${free} free stream slot${free === 1 ? '' : 's'})`;
    this.onEvent({ ...this.last, type: 'status', stream: this.id, state: 'starting', reason, lagSec: this.last.lagSec });
  }

  /** DELETE: the stream stops on its worker and its end is stored for every gateway. */
  async stop(): Promise<void> {
    if (!this.ended) await viaNats(`stopping stream "${this.id}"`, () => stopStream(this.cluster, this.id));
    await this.release();
  }

  /** set_prompt: stored with the stream; its worker applies it at its next tick (about a second). */
  setPrompt(prompt: string): void {
    void setStreamPrompt(this.cluster, this.id, prompt).catch(() => undefined);
  }

  async purge(): Promise<void> {
    await viaNats(`purging stream "${this.id}"`, () => purgeStream(this.cluster, this.id));
  }

  async release(): Promise<void> {
    this.ended = true;
    clearInterval(this.watch);
    this.status?.stop();
    await this.follow?.stop();
  }

  stats(): StreamStats {
    return this.last;
  }
}

function pickStats(e: StatusEvent): StreamStats {
  const { state, time, ingestFps, drops, lagSec, stepLatencyMs, cacheBytes, skippedSeconds, reason, attempt, resumed } = e;
  return { state, time, ingestFps, drops, lagSec, stepLatencyMs, cacheBytes, skippedSeconds, ...(reason !== undefined ? { reason } : {}), ...(attempt !== undefined ? { attempt } : {}), ...(resumed ? { resumed } : {}) };
}

/** The factory of a gateway's server: streams created here become wanted streams of the cluster. */
export function clusterFactory(cluster: Cluster): StreamFactory {
  return (spec: StreamSpec) =>
    new ClusterRunner(
      { id: spec.id, source: spec.source, fps: spec.fps, ...(spec.prompt !== undefined ? { prompt: spec.prompt } : {}), ...(spec.device ? { device: spec.device } : {}), createdAt: new Date().toISOString(), state: 'wanted' },
      cluster,
      true,
    );
}

/** Transcripts for exports, read from the stream's durable log (the same for every gateway). */
export function clusterTranscripts(cluster: Cluster): TranscriptSource {
  return {
    async readSegments(id: string): Promise<Segment[]> {
      const log = await viaNats(`reading the transcript of "${id}"`, () => readLog(cluster, id));
      return log.flatMap(({ event: e }): Segment[] =>
        e.type === 'commentary' ? [{ start: e.start, end: e.end, text: e.text, tokens: e.tokens, latencyMs: e.latencyMs }] : e.type === 'gap' ? [{ start: e.start, end: e.end, text: '', gap: e.reason }] : [],
      );
    },
  };
}

/**
 * Keeps a gateway's stream list equal to the cluster's: every stream in the wanted-streams bucket (created on
 * any gateway, live or ended) is adopted and followed; one purged from it (DELETE ?purge=true on any gateway) is
 * forgotten. Polls, so it also recovers after a NATS restart.
 */
export function syncDirectory(cluster: Cluster, manager: StreamManager, logger: Logger): { stop(): void; synced: Promise<void> } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const seen = new Set<string>(); // ids seen in the bucket: only those can have been purged (a new one is not in it yet)
  const once = async () => {
    const wanted = await listWanted(cluster);
    for (const id of seen) {
      if (wanted.has(id)) continue;
      seen.delete(id);
      await manager.forget(id);
    }
    for (const spec of wanted.values()) {
      seen.add(spec.id);
      if (stopped || manager.has(spec.id)) continue;
      const meta = { id: spec.id, source: spec.source, fps: spec.fps, ...(spec.prompt !== undefined ? { prompt: spec.prompt } : {}), createdAt: spec.createdAt, state: 'starting' };
      await manager.adopt(meta, new ClusterRunner(spec, cluster, false)).catch((err) => logger.warn('could not follow stream', { stream: spec.id, err: String(err) }));
    }
  };
  const loop = () => {
    if (stopped) return;
    timer = setTimeout(() => void once().catch((err) => logger.warn('cluster directory sync failed', { err: String(err) })).finally(loop), DIRECTORY_POLL_MS);
    timer.unref();
  };
  const synced = once().finally(loop);
  return {
    synced,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
