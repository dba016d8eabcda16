import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KvStore, inverseFrequencies, type CachePolicyName, type ContextCache } from '../../src/cache/index.js';
import type { InferenceBackend } from '../../src/model/backend.js';
import { loadModelFolder, type ModelFolder } from '../../src/model/model-folder.js';
import { stackRows } from '../../src/model/encoder.js';
import { createOnnxBackend, type KvResidence } from '../../src/model/onnx-backend.js';
import { framesToPixelValues } from '../../src/model/preprocess.js';
import type { StreamEngineOptions } from '../../src/model/stream-engine.js';
import { TextTokenizer } from '../../src/model/tokenizer.js';

export const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'models');

export interface Tiny {
  folder: ModelFolder;
  backend: InferenceBackend;
  tokenizer: TextTokenizer;
}

/** Tests run the backend in the test's own thread (vitest already isolates files in workers). */
export async function loadTiny(name: 'tiny-random-1l' | 'tiny-random-2l' | 'hf-smolvlm-tiny' | 'hf-qwen2vl-tiny', kv: KvResidence = 'host'): Promise<Tiny> {
  return loadModel(join(FIXTURES, name), kv);
}

/** `kv: 'device'` runs the cache on the ONNX-graph ops (the GPU code path) on the CPU provider. */
export async function loadModel(dir: string, kv: KvResidence = 'host'): Promise<Tiny> {
  const folder = loadModelFolder(dir);
  const backend = await createOnnxBackend(folder, { provider: 'cpu', intraOpThreads: 1, kv });
  return { folder, backend, tokenizer: new TextTokenizer(folder.tokenizerJson, folder.tokenizerConfig) };
}

/**
 * The Qwen2.5-VL fixture in its full layout: its own config, preprocessor, vision encoder and reference, with the
 * language model it shares with the Qwen2-VL fixture (tokenizer, embed_tokens, decoder; train/byo/make_qwen25vl_fixture.py
 * checks those against the Qwen2.5-VL model's whole forward). Made once per test file, in a temporary folder.
 */
export function qwen25Folder(): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'sightline-qwen25-')), 'hf-qwen25vl-tiny');
  cpSync(join(FIXTURES, 'hf-qwen25vl-tiny'), dir, { recursive: true });
  for (const f of ['tokenizer.json', 'tokenizer_config.json', 'onnx/embed_tokens.onnx', 'onnx/decoder_model_merged.onnx']) cpSync(join(FIXTURES, 'hf-qwen2vl-tiny', f), join(dir, f));
  return dir;
}

/** A copy of a model folder with a sightline.json of `settings` (the caller removes it). */
export function folderWithSettings(dir: string, settings: object): string {
  const copy = join(mkdtempSync(join(tmpdir(), 'sightline-model-')), 'model');
  cpSync(dir, copy, { recursive: true });
  writeFileSync(join(copy, 'sightline.json'), JSON.stringify(settings));
  return copy;
}

/** Deterministic RGB frames for stream second `sec`. */
export function framesFor(sec: number, frames: number, width: number, height: number): Uint8Array {
  const out = new Uint8Array(frames * width * height * 3);
  let s = (sec + 1) * 2654435761;
  for (let i = 0; i < out.length; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

export function pixelsFor(folder: ModelFolder, sec: number, frames = 2): Float32Array {
  const v = folder.config.vision;
  return framesToPixelValues(framesFor(sec, frames, v.imageWidth, v.imageHeight), frames, v.imageWidth, v.imageHeight, v);
}

/**
 * Engine options with a cache small enough that 24 s of a tiny model evict rounds and trim text: the cache
 * equivalence test and its GPU twin (bench/gpu/check.ts) run exactly these. Sampling, not greedy, by
 * default, so the commentary (and with it what previous text holds) varies from second to second.
 */
export function smallCacheEngineOptions(policy: CachePolicyName, sampling: Partial<StreamEngineOptions['sampling']> = {}): StreamEngineOptions {
  return {
    policy,
    limits: { textSinkTokens: 6, textWindowTokens: 12, windowSec: 3 },
    maxBytesPerStream: 64 << 20,
    prompt: '',
    sampling: { temperature: 0.9, topP: 0.95, repetitionPenalty: 1.05, seed: 1, ...sampling },
    maxTokensPerSecond: 4,
    repetitionWindowTokens: 32,
  };
}

/** The embeddings of exactly the cache's kept rows, encoded afresh (visual rows re-encoded from the same frames). */
export async function keptRowsEmbeds(tiny: Tiny, cache: ContextCache): Promise<Float32Array> {
  const { backend, folder } = tiny;
  const parts: Float32Array[] = [await backend.embedIds([...cache.layout.systemIds, ...cache.layout.textSinkIds, ...cache.layout.textWindowIds])];
  for (const r of cache.layout.rounds) {
    parts.push(await backend.embedIds(r.headerIds));
    if (r.visualTokens > 0) parts.push(await backend.encodeFrames(pixelsFor(folder, r.startSec), 2));
    parts.push(await backend.embedIds([...r.assistantIds, ...r.commentaryIds]));
  }
  return stackRows(parts);
}

/** A fresh store of the backend's own kind (GPU-resident when its K/V live there). */
export function freshStore(tiny: Tiny, capacity: number): KvStore {
  const { backend, folder } = tiny;
  return new KvStore(folder.config.decoder, capacity, inverseFrequencies(folder.config.rope), backend.createKvOps?.(folder.config.decoder, capacity));
}

/**
 * Next-token logits of a FRESH encode of exactly the cache's kept rows at positions 0..n-1 (visual rows
 * re-encoded from the same frames), followed by `probeId`.
 */
export async function freshLogits(tiny: Tiny, cache: ContextCache, probeId: number): Promise<Float32Array> {
  const { backend } = tiny;
  const all = stackRows([await keptRowsEmbeds(tiny, cache), await backend.embedIds([probeId])]);
  const rows = all.length / backend.hiddenSize;
  const store = freshStore(tiny, rows);
  try {
    return await backend.decode(all, rows, store);
  } finally {
    store.dispose(); // released at once (GPU buffers)
  }
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/**
 * An EnginePool `workerUrl` for the fixture worker that runs the real engine but dies (uncaught error, the
 * thread exits) when the `crashOnStep`-th step request reaches it; each new worker counts from zero.
 */
export function crashingEngineWorker(crashOnStep: number): URL {
  return new URL(`./fixtures/crashing-engine.worker.ts?crashOnStep=${crashOnStep}`, import.meta.url);
}

/** An EnginePool `workerUrl` for the fixture worker whose onnxruntime run fails (a device fault) on its Nth vision call. */
export function deviceFaultEngineWorker(failOnVisionRun: number): URL {
  return new URL(`./fixtures/device-fault-engine.worker.ts?failOnVisionRun=${failOnVisionRun}`, import.meta.url);
}
