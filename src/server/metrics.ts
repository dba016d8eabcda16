/**
 * Prometheus metrics on a registry owned by one server (several servers can share a process, as
 * tests do). Gauges are read from the stream manager at scrape time; per-stream series are
 * removed when a stream is purged so label sets stay bounded by the streams kept.
 *
 * Names follow Prometheus' rules as `promtool check metrics` applies them: counters end in `_total`, no
 * gauge does. prom-client's default metrics break that rule in three places, dropped here (below).
 */
import client from 'prom-client';
import type { LoadSnapshot } from '../model/device-load.js';
import { ownMemory, type ThreadMemory } from '../model/thread-memory.js';

/** Prefix of prom-client's default process and Node.js metrics. */
const DEFAULT_METRICS_PREFIX = 'sightline_process_';

/**
 * Default gauges that prom-client names `*_total`: each is the sum of the gauge of the same name without
 * the suffix, which is labelled by handle/request/resource type, so `sum(sightline_process_nodejs_active_handles)`
 * gives the same number under a valid name.
 */
const DEFAULT_GAUGES_NAMED_TOTAL = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

export interface StreamGaugeSource {
  streams(): { id: string; state: string; viewers: number; lagSec: number; drops: number; ingestFps: number; skippedSeconds: number; reconnectAttempt?: number }[];
}

/** Each engine pool's measured load (serve passes its DevicePools'); absent: no engine gauges. */
export type EngineLoadSource = () => { device: string; load: LoadSnapshot }[];

/** The worker threads' own memory (serve: each engine worker and the encoder worker); the main thread is added here. */
export type ThreadMemorySource = () => Promise<{ thread: string; memory: ThreadMemory }[]>;

/** Where the gauges beyond the streams' read their figures (absent: that gauge is not shown). */
export interface MetricSources {
  engineLoad?: EngineLoadSource;
  workerMemory?: ThreadMemorySource;
  /** Bytes in the search index's LanceDB caches. */
  searchCacheBytes?: () => number;
}

const THREAD_MEMORY_KINDS = { heap_total: 'heapTotal', heap_used: 'heapUsed', external: 'external', array_buffers: 'arrayBuffers' } as const;

export class ServerMetrics {
  readonly registry = new client.Registry();
  private readonly stepLatency: client.Histogram;
  private readonly slowViewers: client.Counter;
  private readonly broadcast: client.Histogram;
  private readonly requests: client.Counter<'route' | 'status'>;
  private readonly skipped: client.Counter;

  constructor(source: StreamGaugeSource, { engineLoad, workerMemory, searchCacheBytes }: MetricSources = {}) {
    const registers = [this.registry];
    if (searchCacheBytes) {
      new client.Gauge({
        name: 'sightline_search_cache_bytes',
        help: 'Bytes in the search index\'s LanceDB caches (file metadata, bounded; index data)',
        registers,
        collect() {
          this.set(searchCacheBytes());
        },
      });
    }
    new client.Gauge({
      name: 'sightline_thread_memory_bytes',
      help: 'Each thread\'s own V8 heap (heap_total, heap_used) and memory bound to its JS objects (external, array_buffers of it), per thread (main, engine-<device>-<i>, encoder); the rest of the process RSS is native (onnxruntime, LanceDB, malloc arenas)',
      labelNames: ['thread', 'kind'],
      registers,
      async collect() {
        const threads = [{ thread: 'main', memory: ownMemory() }, ...((await workerMemory?.().catch(() => [])) ?? [])];
        this.reset();
        for (const { thread, memory } of threads) {
          for (const [kind, key] of Object.entries(THREAD_MEMORY_KINDS)) this.set({ thread, kind }, memory[key]);
        }
      },
    });
    if (engineLoad) {
      new client.Gauge({
        name: 'sightline_engine_worker_busy_ratio',
        help: 'Engine time per wall second of each engine worker over the last 10 s (what admission measures), per device and worker',
        labelNames: ['device', 'worker'],
        registers,
        collect() {
          this.reset();
          for (const { device, load } of engineLoad()) load.workers.forEach((w, i) => this.set({ device, worker: String(i) }, w.busy));
        },
      });
      new client.Gauge({
        name: 'sightline_engine_worker_streams',
        help: 'Streams pinned to each engine worker (open or admitted), per device and worker',
        labelNames: ['device', 'worker'],
        registers,
        collect() {
          this.reset();
          for (const { device, load } of engineLoad()) load.workers.forEach((w, i) => this.set({ device, worker: String(i) }, w.streams));
        },
      });
    }
    client.collectDefaultMetrics({ register: this.registry, prefix: DEFAULT_METRICS_PREFIX });
    for (const name of DEFAULT_GAUGES_NAMED_TOTAL) this.registry.removeSingleMetric(DEFAULT_METRICS_PREFIX + name);
    new client.Gauge({
      name: 'sightline_streams',
      help: 'Streams known to the server, by state (starting, live, reconnecting, lagging, out_of_domain, ended, failed)',
      labelNames: ['state'],
      registers,
      collect() {
        this.reset();
        for (const s of source.streams()) this.inc({ state: s.state });
      },
    });
    new client.Gauge({
      name: 'sightline_viewers',
      help: 'Connected commentary viewers (WebSocket + SSE), per stream',
      labelNames: ['stream'],
      registers,
      collect() {
        this.reset();
        for (const s of source.streams()) this.set({ stream: s.id }, s.viewers);
      },
    });
    new client.Gauge({
      name: 'sightline_stream_lag_seconds',
      help: 'Seconds the engine is behind the live edge, per stream',
      labelNames: ['stream'],
      registers,
      collect() {
        this.reset();
        for (const s of source.streams()) this.set({ stream: s.id }, s.lagSec);
      },
    });
    new client.Gauge({
      name: 'sightline_stream_dropped_frames',
      help: 'Frames dropped by ingest backpressure or corrupt data since the stream started, per stream',
      labelNames: ['stream'],
      registers,
      collect() {
        this.reset();
        for (const s of source.streams()) this.set({ stream: s.id }, s.drops);
      },
    });
    new client.Gauge({
      name: 'sightline_stream_source_up',
      help: 'Whether a running stream\'s source delivers frames (1) or is gone and being reconnected (0), per running stream',
      labelNames: ['stream'],
      registers,
      collect() {
        this.reset();
        for (const s of source.streams()) if (s.state !== 'ended' && s.state !== 'failed') this.set({ stream: s.id }, s.state === 'reconnecting' ? 0 : 1);
      },
    });
    new client.Gauge({
      name: 'sightline_stream_reconnect_attempt',
      help: 'Reconnect attempt of a stream whose source is gone (0: quiet, not yet reconnected), per reconnecting stream',
      labelNames: ['stream'],
      registers,
      collect() {
        this.reset();
        for (const s of source.streams()) if (s.state === 'reconnecting') this.set({ stream: s.id }, s.reconnectAttempt ?? 0);
      },
    });
    new client.Gauge({
      name: 'sightline_stream_ingest_fps',
      help: 'Sampled frames per second delivered by ingest, per stream',
      labelNames: ['stream'],
      registers,
      collect() {
        this.reset();
        for (const s of source.streams()) this.set({ stream: s.id }, s.ingestFps);
      },
    });
    new client.Counter({
      name: 'sightline_stream_skipped_seconds_total',
      help: 'Stream seconds skipped because the engine fell behind real time (stream status skippedSeconds), per stream kept in memory',
      labelNames: ['stream'],
      registers,
      collect() {
        this.reset();
        for (const s of source.streams()) this.inc({ stream: s.id }, s.skippedSeconds);
      },
    });
    this.skipped = new client.Counter({
      name: 'sightline_skipped_seconds_total',
      help: 'Stream seconds skipped because the engine fell behind real time, all streams since the server started',
      registers,
    });
    this.stepLatency = new client.Histogram({
      name: 'sightline_step_latency_seconds',
      help: 'Engine time per 1-second step, from the commentary messages',
      buckets: [0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 5],
      registers,
    });
    this.broadcast = new client.Histogram({
      name: 'sightline_fanout_broadcast_seconds',
      help: 'Time from publishing a message until it was handed to every viewer of its stream',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    });
    this.slowViewers = new client.Counter({
      name: 'sightline_slow_viewers_dropped_total',
      help: 'Viewers closed because their outbound queue filled',
      registers,
    });
    this.requests = new client.Counter({
      name: 'sightline_http_requests_total',
      help: 'HTTP requests by route and status',
      labelNames: ['route', 'status'],
      registers,
    });
  }

  observeStepMs(ms: number): void {
    this.stepLatency.observe(ms / 1000);
  }

  observeBroadcastMs(ms: number): void {
    this.broadcast.observe(ms / 1000);
  }

  countSkippedSeconds(n: number): void {
    if (n > 0) this.skipped.inc(n);
  }

  countSlowViewer(): void {
    this.slowViewers.inc();
  }

  countRequest(route: string, status: number): void {
    this.requests.inc({ route, status: String(status) });
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
