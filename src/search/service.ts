/**
 * Search as a long-lived service (what the HTTP server holds): one store, one encoder worker (text queries),
 * the live segment index, and a queue that indexes files one at a time (the store has one writer), each in
 * a child process of its own (index-job.ts), so what indexing takes goes back to the system when it is done.
 */
import { SightlineError } from '../errors.js';
import { EncoderClient, type ClipEncoder } from '../model/index.js';
import { startIndexJob } from './index-job.js';
import type { IndexReport } from './indexer.js';
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
    private readonly indexWith: { modelDir: string; variant?: string },
    private readonly onError?: (err: unknown) => void,
  ) {}

  static async create(o: SearchServiceOptions): Promise<SearchService> {
    const store = await SearchStore.open(o.dbPath);
    const encoder = await EncoderClient.create(o.modelDir, { variant: o.variant });
    return new SearchService(store, encoder, new LiveSegmentIndex(store, o.liveFlushMs, undefined, o.onError), o.maxQueuedIndexJobs ?? DEFAULT_MAX_QUEUED_INDEX_JOBS, { modelDir: o.modelDir, variant: o.variant }, o.onError);
  }

  search(query: SearchQuery): Promise<SearchResults> {
    return runSearch(this.store, this.encoder, this.live, query);
  }

  addLiveSegment(segment: LiveSegment): void {
    this.live.add(segment);
  }

  /**
   * Indexes one file (already checked against the file roots) in a child process, after any job before it. The
   * answer comes when its clips are committed; the next job starts once the child, done with the clip table's
   * approximate index (as the CLI's), has exited, so the store keeps one writer.
   */
  indexFile(path: string): Promise<IndexReport> {
    if (this.queued >= this.maxQueued) throw new SightlineError('rate_limited', `${this.maxQueued} videos are already waiting to be indexed; try again later`);
    if (this.closing.signal.aborted) throw new SightlineError('worker_failed', 'search service is shutting down');
    this.queued++;
    const started = this.queue.then(() => startIndexJob([path], { dbPath: this.store.dbPath, ...this.indexWith, signal: this.closing.signal, onUpkeepError: this.onError }));
    this.queue = started
      .then((job) => job.exited)
      .then(() => this.store.afterOutsideWrite())
      .catch((err: unknown) => this.onError?.(err))
      .finally(() => this.queued--);
    return started.then(async (job) => {
      const report = await job.report;
      await this.store.afterOutsideWrite(); // searches see the new clips now, not up to a second later
      return report;
    });
  }

  async close(): Promise<void> {
    this.closing.abort();
    await this.queue;
    await this.live.close();
    await this.encoder.close();
    this.store.close();
  }
}
