/** InferenceBackend on onnxruntime-node. Runs only inside engine.worker.ts (session.run blocks its thread). */
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import type { KvGeometry, KvStore } from '../cache/index.js';
import { SightlineError } from '../errors.js';
import { assertFits, type DecodeRequest, type InferenceBackend } from './backend.js';
import { BatchPacker, type BatchInputs } from './batch-packer.js';
import { isGpuTensor, own, release, runGuarded, type GuardedSession } from './device-tensors.js';
import { createHfBackend } from './hf-backend.js';
import { batchGraphSize, cutInputs, CacheGraphs, GraphKvOps, keepsOutputsOnDevice } from './kv-graph-ops.js';
import type { ModelFolder } from './model-folder.js';
import { FOLD_STORED_WEIGHTS, openSession, type SessionSettings } from './onnx-session.js';
import { checkProvider, isNoAdapterError } from './providers.js';

/** Where a stream's K/V live: host Float32Arrays, or tensors of the decoder's provider (kv-graph-ops.ts). */
export type KvResidence = 'host' | 'device';

export interface BackendOptions extends SessionSettings {
  /** Default: `device` on a GPU provider (webgpu), `host` on the CPU. */
  kv?: KvResidence;
  /** When webgpu finds no GPU adapter: run on the CPU with a notice (default) instead of failing. */
  fallbackToCpu?: boolean;
}

export interface OnnxBackend extends InferenceBackend {
  /** The provider actually used (cpu after a fallback). */
  readonly provider: string;
  readonly kv: KvResidence;
  /** One line for the user when the requested device was not used (no GPU adapter). */
  readonly notice?: string;
  /**
   * Batches will hold up to maxBatch streams. K/V on the host: the packed past is sized for that many full
   * caches at the first batch. K/V on a GPU: the batched step's cache graphs (sizes 2, 4, ..., batchGraphSize)
   * are made now, so no stream waits while one is made the first time its size comes up (up to a second each on
   * WebGPU, on the thread that runs every stream's steps).
   */
  prepareBatches?(maxBatch: number): Promise<void>;
  /**
   * `streams` are open on this worker now, each cache holding up to `capacityTokens` rows, a step at most
   * `chunkRows` new rows, a call at most `callRows` rows. K/V on the host, the memory the largest batch of them will
   * need is taken now rather than when that batch first comes (possibly half an hour later: soak runs 16 and 18,
   * bench/results/soak-quick.md): the packed past's pages are made resident at the next batch, and when their
   * number rises the decoder runs the largest call they can make once (chunks of `chunkRows` rows over full
   * caches, zeros), so onnxruntime's CPU arena, which grows to a call's peak and keeps it, grows now. (vLLM sizes
   * its activation memory with such a profile run at start.)
   */
  expectStreams?(streams: number, capacityTokens: number, chunkRows: number, callRows: number): Promise<void>;
}

export async function createOnnxBackend(folder: ModelFolder, options: BackendOptions): Promise<OnnxBackend> {
  await checkProvider(options.provider);
  let o = options;
  let notice: string | undefined;
  let vision: GuardedSession;
  // Folders users bring keep their quantized kernels; only our own stored-int8 weights are folded.
  const extra = folder.hf ? {} : FOLD_STORED_WEIGHTS;
  try {
    vision = await openSession(`model folder ${folder.dir}`, folder.visionPath, o, extra);
  } catch (err) {
    if (!(isNoAdapterError(err) && options.fallbackToCpu !== false)) throw err;
    notice = `${(err as Error).message}; running on the CPU instead`;
    o = { ...options, provider: 'cpu', kv: options.kv === 'device' ? 'device' : 'host' };
    vision = await openSession(`model folder ${folder.dir}`, folder.visionPath, o, extra);
  }
  return folder.hf ? createHfBackend(folder, o, vision, notice) : createOn(folder, o, vision, notice);
}

async function createOn(folder: ModelFolder, o: BackendOptions, vision: GuardedSession, notice: string | undefined): Promise<OnnxBackend> {
  const { config } = folder;
  const { hiddenSize: d, vocabSize, numLayers, numKvHeads, headDim } = config.decoder;
  const kv: KvResidence = o.kv ?? (keepsOutputsOnDevice(o.provider) ? 'device' : 'host');
  const onDevice = keepsOutputsOnDevice(o.provider);
  // Device-resident K/V: only the logits come back to the host; new keys/values stay in GPU memory.
  const outputLocation: Record<string, ort.Tensor.DataLocation> = { logits: 'cpu' };
  for (let l = 0; l < numLayers; l++) outputLocation[`new_key_${l}`] = outputLocation[`new_value_${l}`] = 'gpu-buffer';
  const decoder = await openSession(`model folder ${folder.dir}`, folder.decoderPath, o, {
    ...FOLD_STORED_WEIGHTS,
    ...(kv === 'device' && onDevice ? { preferredOutputLocation: outputLocation } : {}),
  });
  // Format 2 decoders take a batch and an attention mask (docs/model-format.md); format 1 runs one stream a call.
  const batched = config.formatVersion >= 2;
  const want = batched ? ['inputs_embeds', 'position_ids', 'attention_mask'] : ['inputs_embeds', 'position_ids'];
  for (let l = 0; l < numLayers; l++) want.push(`past_key_${l}`, `past_value_${l}`);
  const missing = want.filter((n) => !decoder.session.inputNames.includes(n));
  if (missing.length > 0) {
    throw new SightlineError(
      'model_invalid',
      `model folder ${folder.dir}: decoder.onnx lacks inputs ${missing.join(', ')} (format ${config.formatVersion}, docs/model-format.md)`,
    );
  }
  const geometry: KvGeometry = { numLayers, numKvHeads, headDim };
  const graphs = await CacheGraphs.create(geometry, o.provider, o.intraOpThreads);
  const raw = readFileSync(folder.embeddingsPath!);
  const table = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  const { imageWidth: w, imageHeight: h } = config.vision;
  const emptyPast = new ort.Tensor('float32', new Float32Array(0), [1, 0, numKvHeads, headDim]);
  const packer = new BatchPacker({ hiddenSize: d, vocabSize, numLayers, numKvHeads, headDim });
  /** The most streams a batch holds (prepareBatches), and how many the largest call was last run for. */
  let batchLimit = 1;
  let profiledStreams = 0;
  /** The decoder's own inputs for a packed batch (a format-1 decoder has no mask input). */
  const inputFeeds = (x: BatchInputs): Record<string, ort.Tensor> => ({
    inputs_embeds: new ort.Tensor('float32', x.embeds, [x.batch, x.newRows, d]),
    position_ids: new ort.Tensor('int64', x.positions, [x.batch, x.newRows]),
    ...(batched ? { attention_mask: new ort.Tensor('int64', x.mask, [x.batch, x.pastRows + x.newRows]) } : {}),
  });

  /** Host stores, one call: rows padded to the longest past and the most new rows, padding masked out. */
  async function decodeHostBatch(requests: readonly DecodeRequest[]): Promise<Float32Array[]> {
    const packed = packer.pack(requests);
    const feeds = inputFeeds(packed);
    for (let l = 0; l < numLayers; l++) {
      feeds[`past_key_${l}`] = new ort.Tensor('float32', packed.pastKeys[l], [packed.batch, packed.pastRows, numKvHeads, headDim]);
      feeds[`past_value_${l}`] = new ort.Tensor('float32', packed.pastValues[l], [packed.batch, packed.pastRows, numKvHeads, headDim]);
    }
    const out = await runGuarded(decoder, feeds);
    const keys = Array.from({ length: numLayers }, (_, l) => own(out[`new_key_${l}`]));
    const values = Array.from({ length: numLayers }, (_, l) => own(out[`new_value_${l}`]));
    // A host store takes host rows. GPU outputs (a host store on a device-resident backend, e.g. a test's
    // fresh recompute) come back through kv_read, never through getData().
    const host = keys.some(isGpuTensor)
      ? await graphs.readToHost(keys, values)
      : { keys: keys.map((t) => t.data as Float32Array), values: values.map((t) => t.data as Float32Array) };
    [...keys, ...values].forEach(release);
    return packer.unpack(requests, packed, host.keys, host.values, out.logits.data as Float32Array);
  }

  /** The largest call `batch` streams make: each a chunk of `chunkRows` rows over a full cache (expectStreams). */
  async function profileRun(batch: number, capacityTokens: number, chunkRows: number): Promise<void> {
    const pastRows = Math.max(0, capacityTokens - chunkRows);
    const zeros = new Float32Array(pastRows * numKvHeads * headDim);
    const store = { length: pastRows, capacityTokens, keyView: () => zeros, valueView: () => zeros, append: () => undefined } as unknown as KvStore;
    const embeds = new Float32Array(chunkRows * d);
    await decodeHostBatch(Array.from({ length: batch }, () => ({ embeds, tokens: chunkRows, store })));
  }

  async function decodeOne(embeds: Float32Array, tokens: number, store: KvStore): Promise<Float32Array> {
    assertFits(tokens, store);
    if (!(store.ops instanceof GraphKvOps)) return (await decodeHostBatch([{ embeds, tokens, store }]))[0];
    const request = { embeds, tokens, store };
    const feeds = inputFeeds(packer.packInputs([request]));
    await store.flush();
    const rows = store.ops.past();
    for (let l = 0; l < numLayers; l++) {
      feeds[`past_key_${l}`] = rows ? rows.keys[l] : emptyPast;
      feeds[`past_value_${l}`] = rows ? rows.values[l] : emptyPast;
    }
    const out = await runGuarded(decoder, feeds);
    const keys = Array.from({ length: numLayers }, (_, l) => own(out[`new_key_${l}`]));
    const values = Array.from({ length: numLayers }, (_, l) => own(out[`new_value_${l}`]));
    store.append(keys, values, tokens); // ownership moves to the store's ops
    return packer.lastLogits([request], tokens, out.logits.data as Float32Array)[0];
  }

  /**
   * K/V on the device, one call for the batch: kv_pack gathers the streams' rows into the padded past, the
   * decoder runs, and kv_merge gives each stream its whole rows (its past, then its new rows), which its store
   * adopts: three runs a step whatever the batch (all on the provider); a store that was empty adopts its new
   * rows. A batch whose stores are all empty has no past to pack and takes kv_split.
   */
  async function decodeDeviceBatch(requests: readonly DecodeRequest[]): Promise<Float32Array[]> {
    const batch = requests.length;
    const pasts: ({ keys: ort.Tensor[]; values: ort.Tensor[] } | null)[] = [];
    for (const r of requests) {
      await r.store.flush();
      pasts.push((r.store.ops as GraphKvOps).past());
    }
    const inputs = packer.packInputs(requests);
    const { pastRows, newRows } = inputs;
    const feeds = inputFeeds(inputs);
    const packed: ort.Tensor[] = [];
    const merge = pastRows > 0;
    const slots = batchGraphSize(batch);
    if (pastRows === 0) {
      const none = new ort.Tensor('float32', new Float32Array(0), [batch, 0, numKvHeads, headDim]);
      for (let l = 0; l < numLayers; l++) feeds[`past_key_${l}`] = feeds[`past_value_${l}`] = none;
    } else {
      const past = await graphs.packPasts(pasts, requests.map((r) => r.store.length), pastRows);
      for (let l = 0; l < numLayers; l++) packed.push((feeds[`past_key_${l}`] = past.keys[l]), (feeds[`past_value_${l}`] = past.values[l]));
    }
    let out: ort.InferenceSession.ReturnType | undefined;
    const batchedNew: ort.Tensor[] = [];
    try {
      out = await runGuarded(decoder, feeds);
      for (let l = 0; l < numLayers; l++) batchedNew.push(own(out[`new_key_${l}`]), own(out[`new_value_${l}`]));
      const splitFeeds: Record<string, ort.Tensor> = {};
      for (let l = 0; l < numLayers; l++) {
        splitFeeds[`new_key_${l}`] = batchedNew[2 * l];
        splitFeeds[`new_value_${l}`] = batchedNew[2 * l + 1];
        if (merge) {
          splitFeeds[`past_key_${l}`] = packed[2 * l];
          splitFeeds[`past_value_${l}`] = packed[2 * l + 1];
        }
      }
      Object.assign(splitFeeds, cutInputs(requests.map((r) => r.store.length), requests.map((r) => r.tokens), pastRows, newRows, slots));
      const rows = await runGuarded(await graphs.batchGraph(merge ? 'merge' : 'split', slots), splitFeeds);
      requests.forEach((r, b) => {
        const take = (kv: string) => Array.from({ length: numLayers }, (_, l) => own(rows[`${kv}_${b}_${l}`]));
        r.store.append(take('key'), take('value'), r.tokens); // ownership moves to the store's ops (merged rows: adopted)
      });
      for (let b = batch; b < slots; b++) {
        for (let l = 0; l < numLayers; l++) [rows[`key_${b}_${l}`], rows[`value_${b}_${l}`]].forEach((t) => t.dispose()); // spare slots' rows
      }
    } finally {
      [...packed, ...batchedNew].forEach(release);
    }
    return packer.lastLogits(requests, newRows, out.logits.data as Float32Array);
  }

  return {
    hiddenSize: d,
    framesEncodeAlone: true,
    vocabSize,
    provider: o.provider,
    kv,
    notice,
    embedIds(ids) {
      const out = new Float32Array(ids.length * d);
      ids.forEach((id, i) => out.set(table.subarray(id * d, (id + 1) * d), i * d));
      return out;
    },
    createKvOps: kv === 'device' ? () => new GraphKvOps(graphs) : undefined,
    expectStreams: batched
      ? async (streams, capacityTokens, chunkRows, callRows) => {
          packer.expectStreams(streams);
          const batch = Math.min(streams, batchLimit, Math.max(1, Math.floor(callRows / chunkRows)));
          if (kv !== 'host' || batch <= profiledStreams) return;
          profiledStreams = batch;
          await profileRun(batch, capacityTokens, chunkRows);
        }
      : undefined,
    prepareBatches: batched
      ? async (maxBatch) => {
          packer.expectBatches(maxBatch);
          batchLimit = maxBatch;
          if (kv !== 'device' || !onDevice) return;
          for (let b = 2; b <= batchGraphSize(maxBatch); b *= 2) await Promise.all((['pack', 'merge', 'split'] as const).map((kind) => graphs.batchGraph(kind, b)));
        }
      : undefined,
    async encodeFrames(pixelValues, frames) {
      const r = await runGuarded(vision, { pixel_values: new ort.Tensor('float32', pixelValues, [frames, 3, h, w]) });
      return r.visual_embeds.data as Float32Array;
    },
    decode: decodeOne,
    // Format 2: streams share calls, their K/V packed on the host or on the device; format 1: a call each.
    decodeBatch: batched
      ? async (requests) => {
          for (const r of requests) assertFits(r.tokens, r.store);
          const onDevice = requests.filter((r) => r.store.ops instanceof GraphKvOps).length;
          if (onDevice === 0) return decodeHostBatch(requests);
          if (onDevice === requests.length && requests.length > 1) return decodeDeviceBatch(requests);
          const out: Float32Array[] = []; // one stream, or host and device stores mixed (tests): a call each
          for (const r of requests) out.push(await decodeOne(r.embeds, r.tokens, r.store));
          return out;
        }
      : undefined,
    async dispose() {
      await Promise.all([vision.session.release(), decoder.session.release(), graphs.dispose()]);
    },
  };
}
