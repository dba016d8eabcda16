import { SightlineError } from '../errors.js';
import { KvStore, type KvGeometry, type KvOps } from './kv-store.js';
import { ContextLayout, roundTokens, type RoundRecord } from './layout.js';
import { cachePolicy, type CacheLimits, type CachePolicy, type CachePolicyName } from './policies.js';
import { inverseFrequencies, type RopeParams } from './rope.js';

export interface ContextCacheOptions {
  policy: CachePolicyName;
  geometry: KvGeometry;
  rope: RopeParams;
  limits: CacheLimits;
  /** Upper bound on one round's rows: header + visual + assistant + max new tokens + end. */
  maxRoundTokens: number;
  /** Upper bound on the system block (prompt included); longer prompts are refused. */
  maxSystemTokens: number;
  /** Capacity of the `full` policy (usually the model's maxPositions). */
  fullCapacityTokens: number;
  /** Hard per-stream cap on K/V bytes; a plan over it does not fit. */
  maxBytesPerStream: number;
  /** Cache-ops backend for the store (default: host buffers). Same policies and layout either way. */
  ops?: (geometry: KvGeometry, capacityTokens: number) => KvOps;
}

export type CachePlan =
  | { fits: true; capacityTokens: number; bytes: number }
  | { fits: false; capacityTokens: number; bytes: number; reason: string };

export type FitCheck = { fits: true } | { fits: false; neededTokens: number; freeTokens: number };

/**
 * A run of rows the store is missing: text ids to embed, or visual embeddings as they are (rows [offset,
 * offset + rows) of a round's visual block of blockRows).
 */
export type MissingRows = { kind: 'ids'; ids: number[] } | { kind: 'visual'; embeds: Float32Array; rows: number; offset: number; blockRows: number };

export function bytesPerToken(g: KvGeometry): number {
  return 2 * g.numLayers * g.numKvHeads * g.headDim * 4;
}

/** Capacity a policy needs for its worst case, checked against the byte cap before allocating. */
export function planCache(o: ContextCacheOptions): CachePlan {
  const p = cachePolicy(o.policy);
  const perToken = bytesPerToken(o.geometry);
  let capacityTokens: number;
  if (o.policy === 'full') {
    capacityTokens = Math.min(o.fullCapacityTokens, Math.floor(o.maxBytesPerStream / perToken));
  } else {
    const system = p.keepsSystem ? o.maxSystemTokens : 0;
    capacityTokens = system + p.maxPreviousTextTokens(o.limits) + p.maxRounds(o.limits) * o.maxRoundTokens;
  }
  const bytes = capacityTokens * perToken;
  if (bytes > o.maxBytesPerStream) {
    return { fits: false, capacityTokens, bytes, reason: `needs ${bytes} bytes, cap is ${o.maxBytesPerStream}` };
  }
  if (capacityTokens < o.maxRoundTokens) {
    return { fits: false, capacityTokens, bytes, reason: `not even one round (${o.maxRoundTokens} tokens) fits` };
  }
  return { fits: true, capacityTokens, bytes };
}

/**
 * One stream's context: a KvStore (rows) and a ContextLayout (what the rows are) kept in step.
 * Between seconds `store.length === layout.totalTokens`; a reset or a rebuilding policy leaves the store
 * behind the layout and `missingRows()` says what the engine must encode to catch up.
 */
export class ContextCache {
  readonly policy: CachePolicy;
  readonly store: KvStore;
  readonly layout = new ContextLayout();
  readonly plan: CachePlan & { fits: true };

  constructor(private readonly options: ContextCacheOptions) {
    this.policy = cachePolicy(options.policy);
    const plan = planCache(options);
    if (!plan.fits) throw new SightlineError('cache_full', `KV cache for policy ${options.policy} does not fit: ${plan.reason}`);
    this.plan = plan;
    this.store = new KvStore(options.geometry, plan.capacityTokens, inverseFrequencies(options.rope), options.ops?.(options.geometry, plan.capacityTokens));
  }

  get limits(): CacheLimits {
    return this.options.limits;
  }

  /** Start over: system block (if the policy keeps one) and previous text trimmed to sink + window. */
  reset(systemIds: number[], previousTextIds: number[]): void {
    if (systemIds.length > this.options.maxSystemTokens) {
      throw new SightlineError('bad_input', `prompt too long: ${systemIds.length} tokens, at most ${this.options.maxSystemTokens}`);
    }
    const { textSinkTokens, textWindowTokens } = this.options.limits;
    const maxPrev = this.policy.maxPreviousTextTokens(this.options.limits);
    const prev = maxPrev > 0 ? previousTextIds : [];
    this.layout.systemIds = this.policy.keepsSystem ? [...systemIds] : [];
    this.layout.textSinkIds = prev.slice(0, textSinkTokens);
    this.layout.textWindowIds = prev.slice(textSinkTokens).slice(-textWindowTokens);
    this.layout.rounds = [];
    this.store.truncate(0);
  }

  /** Called at the start of each second: a rebuilding policy drops every row to re-encode them all. */
  beginSecond(): void {
    if (this.policy.rebuildsEachSecond) this.store.truncate(0);
  }

  /** Rows the layout holds and the store lacks, in order. */
  missingRows(): MissingRows[] {
    let skip = this.store.length;
    const out: MissingRows[] = [];
    const pushIds = (ids: number[]): void => {
      const take = ids.slice(Math.min(skip, ids.length));
      skip = Math.max(0, skip - ids.length);
      if (take.length > 0) out.push({ kind: 'ids', ids: take });
    };
    pushIds([...this.layout.systemIds, ...this.layout.textSinkIds, ...this.layout.textWindowIds]);
    for (const r of this.layout.rounds) {
      pushIds(r.headerIds);
      if (skip >= r.visualTokens) skip -= r.visualTokens;
      else {
        if (!r.visualEmbeds) throw new Error(`round ${r.startSec}s lost its visual embeddings; cannot re-encode`);
        const width = r.visualEmbeds.length / r.visualTokens;
        out.push({ kind: 'visual', embeds: r.visualEmbeds.subarray(skip * width), rows: r.visualTokens - skip, offset: skip, blockRows: r.visualTokens });
        skip = 0;
      }
      pushIds([...r.assistantIds, ...r.commentaryIds]);
    }
    return out;
  }

  /** "Does it fit" as a value: the session decides what to do when it does not. */
  canFit(tokens: number): FitCheck {
    return this.store.fits(tokens) ? { fits: true } : { fits: false, neededTokens: tokens, freeTokens: this.store.freeTokens };
  }

  /** Record a round whose rows the engine has appended to the store. */
  commitRound(round: RoundRecord): void {
    const expected = this.layout.totalTokens + roundTokens(round);
    if (this.store.length !== expected) {
      throw new Error(`cache out of step: store has ${this.store.length} rows, layout expects ${expected}`);
    }
    const kept = this.policy.keepsVisualEmbeds ? round : { ...round, visualEmbeds: undefined };
    this.layout.rounds.push(kept);
  }

  /** Evict whole rounds, oldest first, as the policy says. Returns the number of rounds evicted. */
  evict(): number {
    const n = this.policy.evict(this.layout, this.store, this.options.limits);
    // A re-encoding policy may leave the store behind the layout; missingRows() then names the rest.
    if (this.policy.keepsVisualEmbeds ? this.store.length > this.layout.totalTokens : this.store.length !== this.layout.totalTokens) {
      throw new Error(`cache out of step after eviction: ${this.store.length} rows vs ${this.layout.totalTokens}`);
    }
    return n;
  }

  stats(): { tokens: number; capacityTokens: number; bytes: number; rounds: number; previousTextTokens: number } {
    return {
      tokens: this.store.length,
      capacityTokens: this.store.capacityTokens,
      bytes: this.store.bytes,
      rounds: this.layout.rounds.length,
      previousTextTokens: this.layout.previousTextTokens,
    };
  }
}
