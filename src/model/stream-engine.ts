/**
 * One stream's per-second loop, run where its KV cache lives (inside the worker): catch the cache up,
 * encode the second's frames, append the round, generate its commentary, evict. One call per second.
 */
import { ContextCache, type CacheLimits, type CachePolicyName, type MissingRows } from '../cache/index.js';
import { SightlineError } from '../errors.js';
import type { InferenceBackend, VisualRows } from './backend.js';
import { formatSeconds, type ModelConfig } from './config.js';
import { OodGate, type OodReading, type OodStats } from './ood.js';
import { Sampler, type SamplingOptions } from './sampler.js';
import type { TextTokenizer } from './tokenizer.js';

export interface StreamEngineOptions {
  policy: CachePolicyName;
  limits: CacheLimits;
  maxBytesPerStream: number;
  /** User prompt placed in the system block; the model's default prompt when empty. */
  prompt: string;
  sampling: SamplingOptions;
  maxTokensPerSecond: number;
  /** Recent generated ids the repetition penalty looks at. */
  repetitionWindowTokens: number;
  /** Seconds kept silent without asking the model (ModelConfig generation.minIntervalSec / minVisualChange). */
  quiet?: { minIntervalSec?: number; minVisualChange?: number };
}

export interface SecondInput {
  startSec: number;
  endSec: number;
  /** pixel_values [frames, 3, H, W]; frames may be 0 (a second with no frame still gets a round). */
  pixelValues: Float32Array;
  frames: number;
}

export interface SecondResult {
  startSec: number;
  endSec: number;
  text: string;
  tokenIds: number[];
  silent: boolean;
  /** The out-of-domain gate's reading (models with ood.json only); while `outOfDomain` the second is silent. */
  ood?: OodReading;
  evictedRounds: number;
  /**
   * Wall times of the phases; `computeMs` is the model time this stream used: totalMs when it runs alone,
   * its share of the shared calls when batched (totalMs then includes waiting for the batch).
   */
  timings: { visionMs: number; prefillMs: number; decodeMs: number; totalMs: number; computeMs: number };
  cache: { tokens: number; capacityTokens: number; bytes: number; rounds: number; previousTextTokens: number };
}

const MAX_HEADER_TOKENS = 32;

export class StreamEngine {
  readonly cache: ContextCache;
  private readonly sampler: Sampler;
  private readonly endId: number;
  /** The silence marker's id when it is one token (the speak/silence decision needs it). */
  private readonly silenceId: number | undefined;
  private readonly assistantIds: number[];
  private readonly recentIds: number[] = [];
  private prompt: string;
  /** Time of prepareNextSecond since the last step, counted into that step's model time when unbatched. */
  private preparedMs = 0;
  private readonly oodGate?: OodGate;
  /** The last spoken second: its start and its mean visual token (for the quiet rules). */
  private lastSpoken?: { startSec: number; meanVisual?: Float32Array };

  constructor(
    private readonly backend: InferenceBackend,
    private readonly tokenizer: TextTokenizer,
    private readonly config: ModelConfig,
    private readonly options: StreamEngineOptions,
    ood?: OodStats,
  ) {
    if (ood) this.oodGate = new OodGate(ood);
    this.endId = tokenizer.singleTokenId(config.chat.endOfTurn)!;
    this.silenceId = tokenizer.singleTokenId(config.chat.silence);
    this.assistantIds = tokenizer.encode(config.chat.assistant);
    this.sampler = new Sampler(options.sampling);
    this.prompt = options.prompt;
    const visualPerSecond = Math.ceil(config.vision.framesPerSecond) * config.vision.tokensPerFrame;
    this.cache = new ContextCache({
      policy: options.policy,
      geometry: config.decoder,
      rope: config.rope,
      limits: options.limits,
      maxRoundTokens: MAX_HEADER_TOKENS + visualPerSecond + this.assistantIds.length + options.maxTokensPerSecond + 1,
      maxSystemTokens: 512,
      fullCapacityTokens: config.decoder.maxPositions,
      maxBytesPerStream: options.maxBytesPerStream,
      ops: backend.createKvOps,
    });
  }

  /** (Re)start from a transcript: previous text is refilled from it (oldest first), then encoded. */
  async restart(previousTexts: string[], prompt = this.prompt): Promise<void> {
    this.prompt = prompt;
    const system = this.tokenizer.encode(this.config.chat.system.replace('{prompt}', prompt || this.config.chat.defaultPrompt));
    const prev: number[] = [];
    for (const text of previousTexts) prev.push(...this.tokenizer.encode(text), this.endId);
    this.cache.reset(system, prev);
    await this.catchUp();
  }

  /** New prompt mid-stream: kept commentary folds into previous text and the context is re-encoded. */
  async setPrompt(prompt: string): Promise<void> {
    const { layout } = this.cache;
    const texts = [layout.textSinkIds, layout.textWindowIds, ...layout.rounds.filter((r) => !r.silent).map((r) => r.commentaryIds)];
    this.prompt = prompt;
    const system = this.tokenizer.encode(this.config.chat.system.replace('{prompt}', prompt || this.config.chat.defaultPrompt));
    this.cache.reset(system, texts.flat());
    await this.catchUp();
  }

  async step(input: SecondInput): Promise<SecondResult> {
    const t0 = performance.now();
    this.cache.beginSecond();
    await this.catchUp();
    const tPrefill0 = performance.now();
    const visual = input.frames > 0 ? await this.backend.encodeFrames(input.pixelValues, input.frames, this.cache.store) : new Float32Array(0);
    const visionMs = performance.now() - tPrefill0;
    const d = this.backend.hiddenSize;
    const ood = this.oodGate?.observe(visual, d);
    const visualTokens = visual.length / d;
    const header = this.config.chat.roundHeader.replace('{start}', formatSeconds(input.startSec)).replace('{end}', formatSeconds(input.endSec));
    const headerIds = this.tokenizer.encode(header).slice(0, MAX_HEADER_TOKENS);
    const prefixRows = headerIds.length + visualTokens + this.assistantIds.length;
    const fit = this.cache.canFit(prefixRows + this.options.maxTokensPerSecond + 1);
    if (!fit.fits) {
      throw new SightlineError('cache_full', `KV cache full at ${input.startSec}s: round needs ${fit.neededTokens} tokens, ${fit.freeTokens} free (policy ${this.cache.policy.name})`);
    }
    const embeds = new Float32Array(prefixRows * d);
    embeds.set(await this.backend.embedIds(headerIds), 0);
    embeds.set(visual, headerIds.length * d);
    embeds.set(await this.backend.embedIds(this.assistantIds), (headerIds.length + visualTokens) * d);
    const tDecode0 = performance.now();
    const pictures = visualTokens > 0 ? [{ at: headerIds.length, rows: visualTokens, offset: 0, blockRows: visualTokens }] : undefined;
    const logits = await this.backend.decode(embeds, prefixRows, this.cache.store, pictures);
    const prefillMs = performance.now() - tDecode0 + (tPrefill0 - t0);

    // Out of the model's world: say nothing rather than invent a match (the round still enters the cache).
    const quiet = ood?.outOfDomain || this.holdsBack(input.startSec, visual);
    const ids = quiet ? await this.stayQuiet() : await this.generate(logits);
    const text = this.tokenizer.decode(ids);
    const silent = text.trim() === '' || text.trim() === this.config.chat.silence.trim();
    // The mean visual token is kept only when the visual-change rule needs it (not on every spoken second).
    if (!silent) this.lastSpoken = { startSec: input.startSec, meanVisual: this.options.quiet?.minVisualChange ? meanRow(visual, d) : undefined };
    this.cache.commitRound({
      startSec: input.startSec,
      endSec: input.endSec,
      headerIds,
      visualTokens,
      visualEmbeds: visual,
      assistantIds: this.assistantIds,
      commentaryIds: [...ids, this.endId],
      silent,
    });
    const evictedRounds = this.cache.evict();
    const totalMs = performance.now() - t0;
    return {
      startSec: input.startSec,
      endSec: input.endSec,
      text: silent ? this.config.chat.silence : text,
      tokenIds: ids,
      silent,
      ...(ood ? { ood } : {}),
      evictedRounds,
      timings: { visionMs, prefillMs, decodeMs: totalMs - prefillMs - visionMs, totalMs, computeMs: this.takeComputeMs(totalMs) },
      cache: this.cache.stats(),
    };
  }

  /**
   * Encodes now what the next second would otherwise encode first (a `refresh` re-encode after a line moved
   * into previous text), so that work falls between seconds instead of delaying the next second's line. The
   * engine worker calls it after sending a second's result. Not for `recompute`, which rebuilds each second.
   */
  async prepareNextSecond(): Promise<void> {
    if (this.cache.policy.rebuildsEachSecond) return;
    const t0 = performance.now();
    await this.catchUp();
    this.preparedMs += performance.now() - t0;
  }

  /** Release the stream's K/V (GPU buffers at once); the engine is unusable afterwards. */
  dispose(): void {
    this.cache.store.dispose();
  }

  /**
   * A second kept silent without asking the model (docs/byo-models.md, "Silence"): too soon after the last
   * line, or a picture that barely changed since it. Models that know when to stay silent set neither.
   */
  private holdsBack(startSec: number, visual: Float32Array): boolean {
    const { minIntervalSec = 0, minVisualChange = 0 } = this.options.quiet ?? {};
    const last = this.lastSpoken;
    if (!last) return false;
    if (startSec - last.startSec < minIntervalSec) return true;
    const mean = minVisualChange > 0 ? meanRow(visual, this.backend.hiddenSize) : undefined;
    return mean !== undefined && last.meanVisual !== undefined && cosineDistance(mean, last.meanVisual) < minVisualChange;
  }

  /** The silence marker as this round's answer, with its K/V (as generate leaves a silent round). */
  private async stayQuiet(): Promise<number[]> {
    const ids = this.tokenizer.encode(this.config.chat.silence);
    await this.backend.decode(await this.backend.embedIds([...ids, this.endId]), ids.length + 1, this.cache.store);
    return ids;
  }

  /** Model time of this step and of the preparation before it (batched: the stream's share of shared calls). */
  private takeComputeMs(stepMs: number): number {
    const prepared = this.preparedMs;
    this.preparedMs = 0;
    return this.backend.takeComputeMs?.(this.cache.store) ?? stepMs + prepared;
  }

  /** Up to maxTokensPerSecond tokens; stops at end of turn or once the text is the silence marker. */
  private async generate(first: Float32Array): Promise<number[]> {
    const ids: number[] = [];
    let logits = first;
    for (;;) {
      const first = ids.length === 0;
      const id = this.sampler.pick(logits, this.recentIds, first ? this.silenceId : undefined, first ? undefined : this.endId);
      if (id === this.endId) break;
      ids.push(id);
      this.recentIds.push(id);
      if (this.recentIds.length > this.options.repetitionWindowTokens) this.recentIds.shift();
      // An empty silence marker (models users bring) is the end of turn itself, not text to watch for.
      const saidSilence = this.config.chat.silence !== '' && this.tokenizer.decode(ids) === this.config.chat.silence;
      const done = ids.length >= this.options.maxTokensPerSecond || saidSilence;
      if (done) {
        // The last token and the end of turn still need their K/V: one call for both.
        await this.backend.decode(await this.backend.embedIds([id, this.endId]), 2, this.cache.store);
        return ids;
      }
      logits = await this.backend.decode(await this.backend.embedIds([id]), 1, this.cache.store);
    }
    await this.backend.decode(await this.backend.embedIds([this.endId]), 1, this.cache.store);
    return ids;
  }

  private async catchUp(): Promise<void> {
    const missing: MissingRows[] = this.cache.missingRows();
    if (missing.length === 0) return;
    const d = this.backend.hiddenSize;
    const rows = missing.reduce((n, m) => n + (m.kind === 'ids' ? m.ids.length : m.rows), 0);
    const embeds = new Float32Array(rows * d);
    const pictures: VisualRows[] = [];
    let at = 0;
    for (const m of missing) {
      const part = m.kind === 'ids' ? await this.backend.embedIds(m.ids) : m.embeds.subarray(0, m.rows * d);
      if (m.kind === 'visual') pictures.push({ at, rows: m.rows, offset: m.offset, blockRows: m.blockRows });
      embeds.set(part, at * d);
      at += part.length / d;
    }
    await this.backend.decode(embeds, rows, this.cache.store, pictures);
  }
}

/** Mean of the rows of a [rows, d] buffer (undefined when there are none). */
function meanRow(rows: Float32Array, d: number): Float32Array | undefined {
  const n = rows.length / d;
  if (n === 0) return undefined;
  const mean = new Float32Array(d);
  for (let r = 0; r < n; r++) for (let i = 0; i < d; i++) mean[i] += rows[r * d + i] / n;
  return mean;
}

function cosineDistance(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return na === 0 || nb === 0 ? 0 : 1 - dot / Math.sqrt(na * nb);
}
