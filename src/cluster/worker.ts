/**
 * The worker role: runs the streams it holds a lease on, through the same session path as `serve`
 * (startCommentary on the engine), and publishes their messages to JetStream.
 *
 * Every third of the lease (at most 1 s) it renews each lease by compare-and-set on the lease's revision (a failed
 * renewal means another worker owns the stream now: this one stops it without a word) and announces its free room
 * (WORKERS_BUCKET, expires if it dies). Every tick (1 s) it stops streams whose owner asked (DELETE) and claims
 * unclaimed wanted streams that the shared plan (placement.ts) gives it, or any left unclaimed past a grace period.
 * A claimed stream resumes from its durable log: previous text refilled, the clock continuing where it ended.
 */
import type { LoadSnapshot } from '../model/device-load.js';
import { startCommentary, previousTextsFrom, type EngineClient, type CommentaryOptions, type RunningCommentary, type SessionEvent, type SourceOptions } from '../stream/index.js';
import type { Cluster } from './connect.js';
import { listWanted, liveWorkers } from './directory.js';
import { freeStreams, planPlacement } from './placement.js';
import { SegmentPublisher, readLog } from './segment-log.js';
import { statusSubject } from './names.js';
import { WantedStream, decode, encode, type Lease, type WorkerInfo } from './wire.js';

/** What the worker needs from the engine: the session's client, admission and its measured load. */
export type WorkerEngine = EngineClient & { admit(streamId: string): void; loadSnapshot(): LoadSnapshot };

export interface WorkerLog {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
}

export interface StreamWorkerOptions {
  id: string;
  cluster: Cluster;
  engine: WorkerEngine;
  log: WorkerLog;
  /** At most this many streams here, whatever the engine's load says (`worker --max-streams`). */
  maxStreams?: number;
  policy?: CommentaryOptions['policy'];
  ingest?: SourceOptions;
  maxOutageMs?: number;
  tickMs?: number;
  /** An unclaimed stream planned for another worker is claimed by anyone with room after this long. */
  claimGraceMs?: number;
}

interface Running {
  spec: WantedStream;
  leaseRev: number;
  commentary?: RunningCommentary;
  /** Set when this worker gives the stream up (lease lost, stop asked, shutdown): nothing more is published. */
  released: boolean;
  failed: boolean;
}

export class StreamWorker {
  private readonly running = new Map<string, Running>();
  private readonly unclaimedSince = new Map<string, number>();
  private readonly publisher: SegmentPublisher;
  private timer?: NodeJS.Timeout;
  private ticking?: Promise<void>;
  private renewTimer?: NodeJS.Timeout;
  private renewing?: Promise<void>;
  /** Sessions released and still stopping (awaited, bounded, when the worker stops). */
  private readonly stopping = new Set<Promise<void>>();
  private stopped = false;

  constructor(private readonly o: StreamWorkerOptions) {
    this.publisher = new SegmentPublisher(o.cluster, (m) => o.log.warn(m, { worker: o.id }));
  }

  /** Streams running here now. */
  get streams(): string[] {
    return [...this.running.keys()];
  }

  /**
   * Two loops: leases and the announcement every third of the lease (never held up by the slower one), and
   * the reconciliation (stops asked, claims) every tick.
   */
  start(): void {
    const every = (ms: number, fn: () => Promise<void>, what: string, set: (t: NodeJS.Timeout) => void, track: (p: Promise<void>) => void) => {
      const loop = () => {
        if (this.stopped) return;
        const p = fn()
          .catch((err) => this.o.log.warn(`worker ${what} failed`, { worker: this.o.id, err: (err as Error).message }))
          .finally(() => {
            if (!this.stopped) set(setTimeout(loop, ms));
          });
        track(p);
      };
      loop();
    };
    const renewMs = Math.min(1000, Math.floor(this.o.cluster.leaseMs / 3));
    every(renewMs, () => this.renew(), 'lease renewal', (t) => (this.renewTimer = t), (p) => (this.renewing = p));
    every(this.o.tickMs ?? 1000, () => this.tick(), 'tick', (t) => (this.timer = t), (p) => (this.ticking = p));
  }

  /** Gives every stream back (leases deleted, so they move at once) and stops announcing. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.renewTimer);
    await Promise.all([this.ticking, this.renewing]);
    const ids = [...this.running.keys()];
    await Promise.allSettled(ids.map((id) => this.release(id, false)));
    await Promise.race([Promise.allSettled([...this.stopping]), new Promise((r) => setTimeout(r, 5000))]);
    // What was computed is stored before the streams move (bounded: NATS may be gone).
    await Promise.race([this.publisher.flushed(), new Promise((r) => setTimeout(r, 3000))]);
    this.publisher.close();
    await Promise.allSettled(ids.map((id) => this.o.cluster.leases.delete(id)));
    await this.o.cluster.workers.delete(this.o.id).catch(() => undefined);
  }

  private free(): number {
    const engineFree = freeStreams(this.o.engine.loadSnapshot());
    const capFree = this.o.maxStreams === undefined ? Infinity : this.o.maxStreams - this.running.size;
    return Math.max(0, Math.min(engineFree, capFree));
  }

  private async renew(): Promise<void> {
    await this.renewLeases();
    await this.announce();
  }

  private async tick(): Promise<void> {
    const wanted = await listWanted(this.o.cluster);
    // Streams asked to stop (or gone) end here.
    for (const [id, r] of this.running) {
      const spec = wanted.get(id);
      if (!spec || spec.state !== 'wanted') {
        this.o.log.info('stream stop asked', { worker: this.o.id, stream: id });
        await this.release(id, true, r);
        continue;
      }
      // A new instruction (set_prompt on a gateway) applies before the next second.
      if (spec.prompt !== undefined && spec.prompt !== r.spec.prompt) r.commentary?.setPrompt(spec.prompt);
      r.spec = spec;
    }
    await this.claim(wanted);
  }

  /** Says how much room is left (at every tick, and at once after a claim, so gateways admit by fresh numbers). */
  private async announce(): Promise<void> {
    const info: WorkerInfo = { id: this.o.id, free: this.free(), running: this.streams, at: new Date().toISOString() };
    await this.o.cluster.workers.put(this.o.id, encode(info));
  }

  private async renewLeases(): Promise<void> {
    for (const [id, r] of this.running) {
      try {
        r.leaseRev = await this.o.cluster.leases.update(id, encode(this.lease()), r.leaseRev);
      } catch (err) {
        if (!/wrong last sequence/i.test((err as Error).message)) continue; // NATS away: try again next tick
        this.o.log.warn('lease lost: another worker runs the stream now', { worker: this.o.id, stream: id });
        await this.release(id, false, r);
      }
    }
  }

  private lease(): Lease {
    return { worker: this.o.id, since: new Date().toISOString() };
  }

  /** Claims the unclaimed wanted streams the shared plan gives this worker (or any left over past the grace). */
  private async claim(wanted: Map<string, WantedStream>): Promise<void> {
    const unclaimed: WantedStream[] = [];
    for (const spec of wanted.values()) {
      if (spec.state !== 'wanted' || this.running.has(spec.id)) continue;
      const lease = await this.o.cluster.leases.get(spec.id);
      if (lease && lease.operation === 'PUT') {
        this.unclaimedSince.delete(spec.id);
        continue;
      }
      if (!this.unclaimedSince.has(spec.id)) this.unclaimedSince.set(spec.id, Date.now());
      unclaimed.push(spec);
    }
    if (unclaimed.length === 0) return;
    unclaimed.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
    const plan = planPlacement(unclaimed.map((s) => s.id), await liveWorkers(this.o.cluster));
    const grace = this.o.claimGraceMs ?? 3 * (this.o.tickMs ?? 1000);
    for (const spec of unclaimed) {
      if (this.free() <= 0) return;
      const planned = plan.get(spec.id);
      const overdue = Date.now() - this.unclaimedSince.get(spec.id)! > grace;
      if (planned !== this.o.id && !overdue) continue;
      let leaseRev: number;
      try {
        leaseRev = await this.o.cluster.leases.create(spec.id, encode(this.lease()));
      } catch {
        continue; // another worker got it first
      }
      this.unclaimedSince.delete(spec.id);
      await this.run(spec, leaseRev);
      await this.announce();
    }
  }

  /** Starts a claimed stream, resuming from its durable log (a stream that already ended is marked so). */
  private async run(spec: WantedStream, leaseRev: number): Promise<void> {
    const r: Running = { spec, leaseRev, released: false, failed: false };
    this.running.set(spec.id, r);
    try {
      const log = await readLog(this.o.cluster, spec.id);
      if (log.some((l) => l.event.type === 'end')) {
        await this.finish(spec.id, r, 'ended');
        return;
      }
      const segments = log.flatMap((l) =>
        l.event.type === 'commentary' ? [{ start: l.event.start, end: l.event.end, text: l.event.text }] : l.event.type === 'gap' ? [{ start: l.event.start, end: l.event.end, text: '', gap: l.event.reason }] : [],
      );
      const endSec = segments.reduce((m, s) => Math.max(m, s.end), 0);
      const lastMs = log.length > 0 ? log[log.length - 1].storedMs : Date.now();
      const downtimeSec = Math.max(0, Math.round((Date.now() - lastMs) / 1000));
      this.o.engine.admit(spec.id);
      this.o.log.info(endSec > 0 ? 'stream resuming' : 'stream starting', { worker: this.o.id, stream: spec.id, endSec, downtimeSec });
      r.commentary = startCommentary(spec.source, this.o.engine, {
        id: spec.id,
        prompt: spec.prompt,
        ...(endSec > 0 ? { previousTexts: previousTextsFrom(segments), resume: { endSec, downtimeSec, reason: `moved to worker ${this.o.id} (away ${downtimeSec} s)` } } : {}),
        policy: this.o.policy,
        ingest: { ...this.o.ingest, fps: spec.fps, realtime: true, ...(this.o.maxOutageMs ? { maxOutageMs: this.o.maxOutageMs } : {}) },
        skip: 'oldest',
        onEvent: (e) => this.onEvent(spec.id, r, e),
      });
      void r.commentary.done.then(() => (r.released ? undefined : this.finish(spec.id, r, r.failed ? 'failed' : 'ended')));
    } catch (err) {
      // Could not start here (no room after all, unreadable log): give the lease back so another worker tries.
      this.o.log.warn('stream could not start here', { worker: this.o.id, stream: spec.id, err: (err as Error).message });
      r.released = true;
      this.running.delete(spec.id);
      await this.o.engine.close(spec.id).catch(() => undefined);
      await this.o.cluster.leases.delete(spec.id).catch(() => undefined);
    }
  }

  private onEvent(id: string, r: Running, e: SessionEvent): void {
    if (r.released) return;
    if (e.type === 'status') {
      if (e.state === 'failed') r.failed = true;
      this.o.cluster.nc.publish(statusSubject(id), JSON.stringify({ ...e, stream: id }));
      return;
    }
    this.publisher.publish(id, e);
  }

  /** The session ended by itself (source over, failed): its end is stored, the stream marked, the lease given back. */
  private async finish(id: string, r: Running, state: 'ended' | 'failed'): Promise<void> {
    await this.publisher.flushed();
    const entry = await this.o.cluster.streams.get(id);
    const spec = entry && entry.operation === 'PUT' ? decode(WantedStream, entry.value) : undefined;
    if (spec && spec.state === 'wanted') await this.o.cluster.streams.update(id, encode({ ...spec, state }), entry!.revision).catch(() => undefined);
    await this.o.cluster.leases.delete(id).catch(() => undefined);
    this.running.delete(id);
    this.o.log.info('stream ended', { worker: this.o.id, stream: id, state });
    r.released = true;
  }

  /**
   * Stops a stream here without publishing more of it; `giveBack` deletes the lease so it moves at once. The
   * session stops in the background: a slow stop (a second in progress, a source closing) must not hold up the
   * loops that renew and claim (nothing of it is published any more, so another worker may start it meanwhile).
   */
  private async release(id: string, giveBack: boolean, r = this.running.get(id)): Promise<void> {
    if (!r) return;
    r.released = true;
    this.running.delete(id);
    const stopping = (r.commentary?.stop() ?? Promise.resolve()).catch((err) => this.o.log.warn('stream stop failed', { worker: this.o.id, stream: id, err: String(err) }));
    this.stopping.add(stopping);
    void stopping.finally(() => this.stopping.delete(stopping));
    if (giveBack) await this.o.cluster.leases.delete(id).catch(() => undefined);
  }
}
