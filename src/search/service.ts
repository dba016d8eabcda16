/**
 * Search as a long-lived service (what the HTTP server holds): one store, one encoder worker, the
 * live segment index, and a queue that indexes files one at a time (the store has one writer).
 */
import { SightlineError } from '../errors.js';
import { EncoderClient, type ClipEncoder } from '../model/index.js';
import { indexVideos, type IndexReport } from './indexer.js';
import { LiveSegmentIndex, type LiveSegment } from './live-index.js';
import { runSearch, type SearchQuery, type SearchResults } from './query.js';
import { SearchStore } from './store.js';

/** Index requests waiting behind the running one before new ones are refused: 16. */
export const DEFAULT_MAX_QUEUED_INDEX_JOBS = 16;

export interface SearchServiceOptions {
  dbPath: string;
  modelDir: string;
  /** CLIP/SigLIP folders: which graph files (fp16, quantized, ...; default the plain ones). */
  variant?: string;
  /** Live segments commit interval (default 1 s). */
  liveFlushMs?: number;
  maxQueuedIndexJobs?: number;
  onError?: (err: unknown) => void;
}

export class SearchService {
  private queue: Promise<unknown> = Promise.resolve();
  private queued = 0;
  /** Aborted by close(): a running index job stops between clips and is rolled back. */
  private readonly closing = new AbortController();

  private constructor(
    readonly store: SearchStore,
    readonly encoder: ClipEncoder,
    readonly live: LiveSegmentIndex,
    private readonly maxQueued: number,
    private readonly onError?: (err: unknown) => void,
  ) {}

  static async create(o: SearchServiceOptions): Promise<SearchService> {
    const store = await SearchStore.open(o.dbPath);
    const encoder = await EncoderClient.create(o.modelDir, { variant: o.variant });
    return new SearchService(store, encoder, new LiveSegmentIndex(store, o.liveFlushMs, undefined, o.onError), o.maxQueuedIndexJobs ?? DEFAULT_MAX_QUEUED_INDEX_JOBS, o.onError);
  }

  search(query: SearchQuery): Promise<SearchResults> {
    return runSearch(this.store, this.encoder, this.live, query);
  }

  addLiveSegment(segment: LiveSegment): void {
    this.live.add(segment);
  }

  /** Indexes one file (already checked against the file roots); runs after any job before it. */
  indexFile(path: string): Promise<IndexReport> {
    if (this.queued >= this.maxQueued) throw new SightlineError('rate_limited', `${this.maxQueued} videos are already waiting to be indexed; try again later`);
    this.queued++;
    if (this.closing.signal.aborted) throw new SightlineError('worker_failed', 'search service is shutting down');
    const job = this.queue.then(() => indexVideos([path], { store: this.store, encoder: this.encoder, signal: this.closing.signal }));
    // The approximate index follows the table as the CLI's does (store.maintainAnnIndex); it runs after the
    // request has its answer but before the next job, so the store keeps one writer.
    const upkeep = job.then(
      async (r) => {
        if (r.indexed.length > 0) await this.store.maintainAnnIndex(this.encoder.spec.name).catch((err: unknown) => this.onError?.(err));
      },
      () => undefined,
    );
    this.queue = upkeep.finally(() => this.queued--);
    return job;
  }

  async close(): Promise<void> {
    this.closing.abort();
    await this.queue;
    await this.live.close();
    await this.encoder.close();
    this.store.close();
  }
}
