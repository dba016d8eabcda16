/**
 * Indexing: video files -> clips -> vectors + thumbnails -> the store (store-writer.ts has the crash-safe
 * write protocol). Per video: stat, skip if unchanged, hash, probe (done for the next file while this
 * one runs), then decode (ffmpeg child) and encode (encoder worker) overlap: while one batch of clips
 * is being embedded the next is decoded.
 * A bad file is reported with its reason and the run goes on.
 */
import { createHash } from 'node:crypto';
import { createReadStream, readdirSync, realpathSync, statSync, type Stats } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import sharp from 'sharp';
import { SightlineError, isSightlineError } from '../errors.js';
import { readClips, type ClipPlan, type DecodedClip } from './clip-reader.js';
import type { ClipEncoder } from '../model/index.js';
import { SearchStore, type ClipRow } from './store.js';
import { probeVideo, type VideoProbe } from './video-probe.js';

/** Extensions picked up when a folder is given (files named explicitly are always tried). */
export const VIDEO_EXTENSIONS = new Set(['.mp4', '.m4v', '.mov', '.mkv', '.webm', '.avi', '.ts', '.mts', '.m2ts', '.mpg', '.mpeg', '.flv', '.wmv', '.3gp', '.ogv']);
/** Clips embedded per encoder request (one video.onnx batch). */
export const DEFAULT_ENCODE_BATCH = 4;
/** Clips per LanceDB commit: fewer, larger commits keep the table's version count small. */
export const CLIPS_PER_COMMIT = 32;
export const THUMBNAIL_JPEG_QUALITY = 70;

export interface IndexOptions {
  store: SearchStore;
  encoder: ClipEncoder;
  /** Clip length (default: the model's). */
  clipSeconds?: number;
  encodeBatch?: number;
  /** ffmpeg decoder threads (default 0: one per core). */
  decoderThreads?: number;
  onEvent?: (e: IndexEvent) => void;
  signal?: AbortSignal;
}

export type IndexEvent =
  | { type: 'recovered'; path: string }
  | { type: 'start'; path: string; durationSec: number; sizeBytes: number }
  | { type: 'clips'; path: string; clips: number; doneSec: number; durationSec: number }
  | { type: 'indexed'; path: string; clips: number; durationSec: number }
  | { type: 'skipped'; path: string; reason: string }
  | { type: 'failed'; path: string; code: string; reason: string };

export interface IndexReport {
  indexed: { path: string; clips: number; durationSec: number }[];
  skipped: { path: string; reason: string }[];
  failed: { path: string; code: string; reason: string }[];
  /** Wall seconds the pipeline waited on decoding (ffmpeg + frame assembly). */
  decodeWaitSec: number;
  /** Seconds of encoder work (worker requests in flight, thumbnails excluded). */
  encodeSec: number;
  /** Video seconds indexed this run. */
  videoSec: number;
  wallSec: number;
}

/** Files to index: files as given, folders walked recursively for VIDEO_EXTENSIONS; missing inputs reported. */
export function collectVideoFiles(inputs: string[]): { files: string[]; missing: { path: string; reason: string }[] } {
  const files: string[] = [];
  const missing: { path: string; reason: string }[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.isFile() && VIDEO_EXTENSIONS.has(extname(entry.name).toLowerCase())) files.push(p);
    }
  };
  for (const input of inputs) {
    let st;
    try {
      st = statSync(input);
    } catch {
      missing.push({ path: input, reason: 'does not exist' });
      continue;
    }
    if (st.isDirectory()) walk(input);
    else if (st.isFile()) files.push(input);
    else missing.push({ path: input, reason: 'is not a regular file' });
  }
  return { files: [...new Set(files.map((f) => realpathSync(resolve(f))))], missing };
}

export function sha256File(path: string): Promise<string> {
  return new Promise((res, rej) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (d) => h.update(d))
      .on('error', (err) => rej(new SightlineError('source_not_found', `${path}: cannot be read (${err.message})`, { cause: err })))
      .on('end', () => res(h.digest('hex')));
  });
}

/** The clip's middle frame as a small JPEG (the model's input size). */
export function thumbnailOf(clip: DecodedClip): Promise<Buffer> {
  const frameBytes = clip.width * clip.height * 3;
  const mid = Math.floor((clip.frames - 1) / 2);
  return sharp(clip.rgb.subarray(mid * frameBytes, (mid + 1) * frameBytes), { raw: { width: clip.width, height: clip.height, channels: 3 } })
    .jpeg({ quality: THUMBNAIL_JPEG_QUALITY })
    .toBuffer();
}

export async function indexVideos(inputs: string[], o: IndexOptions): Promise<IndexReport> {
  const wallStart = performance.now();
  const { spec, embedDim } = o.encoder;
  const model = spec.name;
  const report: IndexReport = { indexed: [], skipped: [], failed: [], decodeWaitSec: 0, encodeSec: 0, videoSec: 0, wallSec: 0 };
  const emit = (e: IndexEvent): void => o.onEvent?.(e);
  const fail = (path: string, err: unknown): void => {
    const code = isSightlineError(err) ? err.code : 'internal';
    const reason = (err as Error).message ?? String(err);
    report.failed.push({ path, code, reason });
    emit({ type: 'failed', path, code, reason });
  };

  for (const path of await o.store.recover(model, embedDim)) emit({ type: 'recovered', path });
  const { files, missing } = collectVideoFiles(inputs);
  for (const m of missing) fail(m.path, new SightlineError('source_not_found', `${m.path}: ${m.reason}`));
  const plan: ClipPlan = { clipSeconds: o.clipSeconds ?? spec.clipSeconds, framesPerClip: spec.framesPerClip, width: spec.imageWidth, height: spec.imageHeight, fit: spec.fit, decoderThreads: o.decoderThreads };

  // Look-ahead: the next file is stat'ed, hashed and probed (reads only) while this one decodes and encodes.
  const prepare = (path: string): Promise<Prepared> => prepareVideo(path, o.store, model).catch((error: unknown) => ({ path, error }));
  let next = files.length > 0 ? prepare(files[0]) : undefined;
  for (let i = 0; i < files.length; i++) {
    const prepared = await next!;
    next = i + 1 < files.length ? prepare(files[i + 1]) : undefined;
    const { path } = prepared;
    if (o.signal?.aborted) break;
    try {
      if ('error' in prepared) throw prepared.error;
      if ('skip' in prepared) {
        report.skipped.push({ path, reason: prepared.skip });
        emit({ type: 'skipped', path, reason: prepared.skip });
        continue;
      }
      const { st, hash, probe } = prepared;
      emit({ type: 'start', path, durationSec: probe.durationSec ?? 0, sizeBytes: st.size });
      await o.store.beginVideo(path, hash, model, embedDim);
      try {
        const done = await indexOne(path, hash, probe.durationSec, plan, o, report, emit);
        if (done.clips === 0) throw new SightlineError('source_corrupt', `${path}: no frames could be decoded (too short or damaged)`);
        // A file that stops decoding well before its stated duration is truncated or damaged: skip it whole.
        if (probe.durationSec !== undefined && done.lastFrameSec < probe.durationSec - plan.clipSeconds) {
          throw new SightlineError('source_corrupt', `${path}: decoding stopped at ${done.lastFrameSec.toFixed(1)} s of ${probe.durationSec.toFixed(1)} s (truncated or damaged)`);
        }
        await o.store.completeVideo({ path, hash, model, sizeBytes: st.size, mtimeMs: st.mtimeMs, durationSec: done.durationSec, clips: done.clips, indexedAt: new Date().toISOString() });
        report.indexed.push({ path, clips: done.clips, durationSec: done.durationSec });
        report.videoSec += done.durationSec;
        emit({ type: 'indexed', path, clips: done.clips, durationSec: done.durationSec });
      } catch (err) {
        await o.store.recover(model, embedDim); // roll this video back now rather than on the next run
        throw err;
      }
    } catch (err) {
      if (o.signal?.aborted) break;
      fail(path, err);
    }
  }
  await next?.catch(() => undefined); // an abort may leave one look-ahead running: let it finish
  report.wallSec = (performance.now() - wallStart) / 1000;
  return report;
}

type Prepared =
  | { path: string; error: unknown }
  | { path: string; skip: string }
  | { path: string; st: Stats; hash: string; probe: VideoProbe };

/** Everything about a file that needs no writes: unchanged? else its hash and probe. */
async function prepareVideo(path: string, store: SearchStore, model: string): Promise<Prepared> {
  const st = statSync(path);
  const known = await store.indexedVideo(path, model);
  if (known && known.sizeBytes === st.size && known.mtimeMs === st.mtimeMs) return { path, skip: 'already indexed' };
  const hash = await sha256File(path);
  if (known?.hash === hash) return { path, skip: 'already indexed (same content)' };
  return { path, st, hash, probe: await probeVideo(path) };
}

/** Decode + encode + write one video; encoding of batch n overlaps decoding of batch n + 1. */
async function indexOne(
  path: string,
  hash: string,
  durationSec: number | undefined,
  plan: ClipPlan,
  o: IndexOptions,
  report: IndexReport,
  emit: (e: IndexEvent) => void,
): Promise<{ clips: number; durationSec: number; lastFrameSec: number }> {
  const { spec, embedDim } = o.encoder;
  const batchSize = o.encodeBatch ?? DEFAULT_ENCODE_BATCH;
  let rows: ClipRow[] = [];
  let clips = 0;
  let endSec = 0;
  let lastFrameSec = 0;
  let inFlight: Promise<void> | undefined;

  const encode = async (batch: DecodedClip[]): Promise<void> => {
    const t0 = performance.now();
    const vectors = await o.encoder.embedClips(batch.map((c) => ({ rgb: c.rgb, frames: c.frames })));
    report.encodeSec += (performance.now() - t0) / 1000;
    const thumbs = await Promise.all(batch.map(thumbnailOf));
    batch.forEach((c, i) => rows.push({ vector: vectors[i], video: path, hash, start: c.startSec, end: c.endSec, thumbnail: thumbs[i], model: spec.name }));
    clips += batch.length;
    endSec = batch[batch.length - 1].endSec;
    lastFrameSec = batch[batch.length - 1].lastFrameSec;
    if (rows.length >= CLIPS_PER_COMMIT) await flush();
  };
  const flush = async (): Promise<void> => {
    const commit = rows;
    rows = [];
    await o.store.addClips(spec.name, embedDim, commit);
    emit({ type: 'clips', path, clips, doneSec: endSec, durationSec: durationSec ?? endSec });
  };

  let batch: DecodedClip[] = [];
  const iterator = readClips(path, plan, durationSec, o.signal)[Symbol.asyncIterator]();
  try {
    for (;;) {
      const t0 = performance.now();
      const next = await iterator.next();
      report.decodeWaitSec += (performance.now() - t0) / 1000;
      if (next.done) break;
      batch.push(next.value);
      if (batch.length >= batchSize) {
        await inFlight; // at most one batch encoding while the next decodes
        inFlight = encode(batch);
        inFlight.catch(() => undefined); // awaited below; never unhandled meanwhile
        batch = [];
      }
    }
    await inFlight;
    // An aborted decode ends early without an error: never let that count as the whole video.
    if (o.signal?.aborted) throw new SightlineError('internal', `${path}: indexing interrupted`);
    if (batch.length > 0) await encode(batch);
    if (rows.length > 0) await flush();
  } finally {
    await iterator.return?.(undefined);
  }
  return { clips, durationSec: durationSec ?? endSec, lastFrameSec };
}
