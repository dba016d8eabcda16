/**
 * InferenceBackend for Hugging Face VLM folders in the transformers.js layout (hf-folder.ts): vision_encoder,
 * embed_tokens and decoder_model_merged (a Qwen2-VL folder's frames and positions as hf-qwen2vl.ts lays them
 * out). K/V stay in the decoder's own layout [1, kvHeads, rows, headDim], so a step feeds them as they are and
 * keeps the `present` it gets back: on the host (HeadMajorKvOps), or on the provider (GraphKvOps, head-major:
 * GPU memory on webgpu, the default there). Streams due together share one decoder call: host K/V packed by
 * hf-batch.ts, device K/V by the cache graphs (kv_pack, kv_present); Qwen2-VL's 3-axis positions per row.
 * Runs only inside engine.worker.ts (and tests), like onnx-backend.ts.
 */
import * as ort from 'onnxruntime-node';
import { HeadMajorKvOps, type KvStore } from '../cache/index.js';
import { SightlineError } from '../errors.js';
import { assertFits, type DecodeRequest } from './backend.js';
import { BatchPacker } from './batch-packer.js';
import { HeadMajorPastPacker, ownPresent } from './hf-batch.js';
import { mropePositions, patchify } from './hf-qwen2vl.js';
import { own, release, runGuarded, type GuardedSession } from './device-tensors.js';
import { batchGraphSize, CacheGraphs, GraphKvOps, keepsOutputsOnDevice, cutInputs } from './kv-graph-ops.js';
import type { ModelFolder } from './model-folder.js';
import type { BackendOptions, OnnxBackend } from './onnx-backend.js';
import { openSession } from './onnx-session.js';

/**
 * The Qwen vision graph's grid input: transformers.js names it `grid_thw` for Qwen2-VL and `image_grid_thw` for
 * Qwen2.5-VL (its Qwen2_5_VLForConditionalGeneration overrides only that name); either is taken.
 */
export function gridInputName(visionInputs: readonly string[]): 'grid_thw' | 'image_grid_thw' {
  return visionInputs.includes('image_grid_thw') ? 'image_grid_thw' : 'grid_thw';
}

/** Inputs each graph must have (outputs are checked by name on the first run). */
export function requiredInputs(numLayers: number, family: 'smolvlm' | 'qwen2_vl' = 'smolvlm', gridName = 'grid_thw'): Record<'vision' | 'embed' | 'decoder', string[]> {
  const past: string[] = [];
  for (let l = 0; l < numLayers; l++) past.push(`past_key_values.${l}.key`, `past_key_values.${l}.value`);
  const vision = family === 'qwen2_vl' ? ['pixel_values', gridName] : ['pixel_values'];
  return { vision, embed: ['input_ids'], decoder: ['inputs_embeds', 'attention_mask', 'position_ids', ...past] };
}

/** Every required input present and float inputs float32; else one model_invalid error naming the file and the input. */
export function checkGraphInputs(dir: string, s: GuardedSession, path: string, required: string[]): void {
  const file = path.slice(dir.length + 1);
  const missing = required.filter((n) => !s.session.inputNames.includes(n));
  if (missing.length > 0) {
    throw new SightlineError('model_invalid', `model folder ${dir}: ${file} lacks input ${missing.join(', ')} (has ${s.session.inputNames.join(', ')}; the transformers.js layout, docs/byo-models.md)`);
  }
  for (const m of s.session.inputMetadata) {
    if (m.isTensor && m.type === 'float16') {
      throw new SightlineError('model_invalid', `model folder ${dir}: ${file} takes ${m.name} as float16; fp16 graphs are not supported yet (use the fp32, int8, quantized or q4 variant)`);
    }
  }
}

export async function createHfBackend(folder: ModelFolder, o: BackendOptions, vision: GuardedSession, notice: string | undefined): Promise<OnnxBackend> {
  const hf = folder.hf!;
  const { hiddenSize: d, vocabSize, numLayers, numKvHeads, headDim } = folder.config.decoder;
  const { imageWidth: w, imageHeight: h } = folder.config.vision;
  const label = `model folder ${folder.dir}`;
  const kv = o.kv ?? (keepsOutputsOnDevice(o.provider) ? 'device' : 'host');
  const presentOnDevice: Record<string, ort.Tensor.DataLocation> = { logits: 'cpu' };
  for (let l = 0; l < numLayers; l++) presentOnDevice[`present.${l}.key`] = presentOnDevice[`present.${l}.value`] = 'gpu-buffer';
  const embed = await openSession(label, hf.embedTokensPath, o);
  const decoder = await openSession(label, folder.decoderPath, o, kv === 'device' && keepsOutputsOnDevice(o.provider) ? { preferredOutputLocation: presentOnDevice } : {});
  const graphs = kv === 'device' ? await CacheGraphs.create({ numLayers, numKvHeads, headDim }, o.provider, o.intraOpThreads, 'head-major') : undefined;
  const emptyPast = new ort.Tensor('float32', new Float32Array(0), [1, numKvHeads, 0, headDim]);
  const gridName = gridInputName(vision.session.inputNames);
  const need = requiredInputs(numLayers, hf.family, gridName);
  checkGraphInputs(folder.dir, vision, folder.visionPath, need.vision);
  checkGraphInputs(folder.dir, embed, hf.embedTokensPath, need.embed);
  checkGraphInputs(folder.dir, decoder, folder.decoderPath, need.decoder);
  const visionTakesMask = vision.session.inputNames.includes('pixel_attention_mask');
  const inputsPacker = new BatchPacker({ hiddenSize: d, vocabSize, numLayers, numKvHeads, headDim });
  const pastPacker = new HeadMajorPastPacker({ numLayers, numKvHeads, headDim });
  const qwen = hf.qwen;
  // transformers.js's Qwen2-VL processor makes the grid float32; exports from transformers take int64
  const gridAsFloat = vision.session.inputMetadata.some((m) => m.name === gridName && m.isTensor && m.type === 'float32');

  function output(out: ort.InferenceSession.ReturnType, name: string, file: string): ort.Tensor {
    const t = out[name];
    if (!t) throw new SightlineError('model_invalid', `${label}: ${file} has no output ${name}`);
    return t;
  }

  async function embedIds(ids: number[]): Promise<Float32Array> {
    if (ids.length === 0) return new Float32Array(0);
    const out = await runGuarded(embed, { input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]) });
    return output(out, 'inputs_embeds', 'embed_tokens').data as Float32Array;
  }
  // The processor's tokens around each frame never change: embedded once, not every second.
  const [frameBefore, frameAfter, betweenFrames] = [await embedIds(hf.frameBefore), await embedIds(hf.frameAfter), await embedIds(hf.betweenFrames)];

  const backend: OnnxBackend = {
    hiddenSize: d,
    // Several streams' frames in one vision call only when each frame's rows stand alone (cut apart by frame).
    framesEncodeAlone: !qwen && betweenFrames.length === 0,
    vocabSize,
    provider: o.provider,
    kv,
    notice,
    embedIds,
    createKvOps: (geometry) => (graphs ? new GraphKvOps(graphs) : new HeadMajorKvOps(geometry)),
    /** Each frame: the processor's tokens around it (<fake_token_around_image><global-img> ... <fake_token_around_image>) and its features. */
    async encodeFrames(pixelValues, frames) {
      if (qwen) return encodeVideoBlock(pixelValues, frames);
      const feeds: Record<string, ort.Tensor> = { pixel_values: new ort.Tensor('float32', pixelValues, [1, frames, 3, h, w]) };
      if (visionTakesMask) feeds.pixel_attention_mask = new ort.Tensor('bool', new Uint8Array(frames * h * w).fill(1), [1, frames, h, w]);
      const features = output(await runGuarded(vision, feeds), 'image_features', 'vision_encoder').data as Float32Array;
      const perFrame = hf.imageSeqLen * d;
      if (features.length !== frames * perFrame) {
        throw new SightlineError('model_invalid', `${label}: vision_encoder gave ${features.length / d} feature rows for ${frames} frames, expected ${hf.imageSeqLen} each`);
      }
      const out = new Float32Array(frames * (frameBefore.length + perFrame + frameAfter.length) + (frames - 1) * betweenFrames.length);
      let at = 0;
      for (let f = 0; f < frames; f++) {
        if (f > 0) at = put(out, betweenFrames, at);
        at = put(out, frameBefore, at);
        at = put(out, features.subarray(f * perFrame, (f + 1) * perFrame), at);
        at = put(out, frameAfter, at);
      }
      return out;
    },
    async decode(embeds, tokens, store, visual) {
      assertFits(tokens, store);
      const past = store.length;
      const positions = qwen ? mropePositions(store, tokens, visual, qwen) : undefined;
      const feeds: Record<string, ort.Tensor> = {
        inputs_embeds: new ort.Tensor('float32', embeds.subarray(0, tokens * d), [1, tokens, d]),
        attention_mask: new ort.Tensor('int64', new BigInt64Array(past + tokens).fill(1n), [1, past + tokens]),
        position_ids: positions
          ? new ort.Tensor('int64', axisMajor(positions, tokens), [3, 1, tokens])
          : new ort.Tensor('int64', BigInt64Array.from({ length: tokens }, (_, i) => BigInt(past + i)), [1, tokens]),
        ...(await pastFeeds(store)),
      };
      const out = await runGuarded(decoder, feeds);
      const present = (kind: 'key' | 'value') =>
        Array.from({ length: numLayers }, (_, l) => {
          const t = output(out, `present.${l}.${kind}`, 'decoder_model_merged');
          return graphs ? own(t) : (t.data as Float32Array); // a device store takes the tensors (and their release)
        });
      store.append(present('key'), present('value'), tokens, positions);
      const logits = output(out, 'logits', 'decoder_model_merged').data as Float32Array;
      const vocab = logits.length / tokens;
      return logits.slice((tokens - 1) * vocab, tokens * vocab);
    },
    // The streams due together share one call (a lone stream, or host and device stores mixed: a call each).
    async decodeBatch(requests) {
      for (const r of requests) assertFits(r.tokens, r.store);
      if (requests.length > 1 && requests.every((r) => r.store.ops instanceof HeadMajorKvOps)) return decodeHostBatch(requests);
      if (requests.length > 1 && requests.every((r) => r.store.ops instanceof GraphKvOps)) return decodeDeviceBatch(requests);
      const out: Float32Array[] = [];
      for (const r of requests) out.push(await backend.decode(r.embeds, r.tokens, r.store, r.visual));
      return out;
    },
    // K/V on a GPU: the batch graphs of each size made now, not while streams wait (up to a second each on WebGPU).
    prepareBatches: graphs
      ? async (maxBatch) => {
          for (let b = 2; b <= batchGraphSize(maxBatch); b *= 2) await Promise.all([graphs.batchGraph('pack', b), graphs.batchGraph('present', b)]);
        }
      : undefined,
    async dispose() {
      await Promise.all([vision.session.release(), embed.session.release(), decoder.session.release(), graphs?.dispose()]);
    },
  };
  return backend;

  /**
   * Embeddings padded to the most new rows, per-row positions, the mask over past + new rows (batch-packer.ts).
   * Qwen2-VL: position_ids [3, batch, newRows] from each stream's store and visual rows (padding rows at 0,
   * masked), and each stream's positions, which its store keeps with its rows.
   */
  function batchInputFeeds(requests: readonly DecodeRequest[]): { feeds: Record<string, ort.Tensor>; batch: number; pastRows: number; newRows: number; positions?: Int32Array[] } {
    const inputs = inputsPacker.packInputs(requests);
    const { batch, pastRows, newRows } = inputs;
    const feeds: Record<string, ort.Tensor> = {
      inputs_embeds: new ort.Tensor('float32', inputs.embeds, [batch, newRows, d]),
      attention_mask: new ort.Tensor('int64', inputs.mask, [batch, pastRows + newRows]),
      position_ids: new ort.Tensor('int64', inputs.positions, [batch, newRows]),
    };
    if (!qwen) return { feeds, batch, pastRows, newRows };
    const positions = requests.map((r) => mropePositions(r.store, r.tokens, r.visual, qwen));
    const ids = new BigInt64Array(3 * batch * newRows);
    positions.forEach((p, b) => {
      for (let i = 0; i < requests[b].tokens; i++) for (let a = 0; a < 3; a++) ids[(a * batch + b) * newRows + i] = BigInt(p[i * 3 + a]);
    });
    feeds.position_ids = new ort.Tensor('int64', ids, [3, batch, newRows]);
    return { feeds, batch, pastRows, newRows, positions };
  }

  async function decodeHostBatch(requests: readonly DecodeRequest[]): Promise<Float32Array[]> {
    const { feeds, batch, pastRows, newRows, positions } = batchInputFeeds(requests);
    const ops = requests.map((r) => r.store.ops as HeadMajorKvOps);
    const lengths = requests.map((r) => r.store.length);
    const past = pastPacker.pack(ops, lengths, pastRows, Math.max(...requests.map((r) => r.store.capacityTokens)));
    for (let l = 0; l < numLayers; l++) {
      feeds[`past_key_values.${l}.key`] = new ort.Tensor('float32', past.keys[l], [batch, numKvHeads, pastRows, headDim]);
      feeds[`past_key_values.${l}.value`] = new ort.Tensor('float32', past.values[l], [batch, numKvHeads, pastRows, headDim]);
    }
    const out = await runGuarded(decoder, feeds);
    const present = (kind: 'key' | 'value', l: number) => output(out, `present.${l}.${kind}`, 'decoder_model_merged').data as Float32Array;
    requests.forEach((r, b) => {
      const own = (kind: 'key' | 'value') => Array.from({ length: numLayers }, (_, l) => ownPresent(present(kind, l), b, lengths[b], r.tokens, pastRows, newRows, numKvHeads, headDim));
      r.store.append(own('key'), own('value'), r.tokens, positions?.[b]);
    });
    return inputsPacker.lastLogits(requests, newRows, output(out, 'logits', 'decoder_model_merged').data as Float32Array);
  }

  /**
   * K/V on the device, one decoder call for the batch: kv_pack gathers the streams' rows into the padded past
   * [B, H, P, D], the decoder runs, and kv_present cuts each stream's whole rows out of the present, which its
   * store adopts: three runs a step whatever the batch, all on the provider.
   */
  async function decodeDeviceBatch(requests: readonly DecodeRequest[]): Promise<Float32Array[]> {
    const g = graphs!;
    const pasts: ({ keys: ort.Tensor[]; values: ort.Tensor[] } | null)[] = [];
    for (const r of requests) {
      await r.store.flush();
      pasts.push((r.store.ops as GraphKvOps).past());
    }
    const { feeds, batch, pastRows, newRows, positions } = batchInputFeeds(requests);
    const slots = batchGraphSize(batch);
    const held: ort.Tensor[] = [];
    try {
      if (pastRows === 0) {
        const none = new ort.Tensor('float32', new Float32Array(0), [batch, numKvHeads, 0, headDim]);
        for (let l = 0; l < numLayers; l++) feeds[`past_key_values.${l}.key`] = feeds[`past_key_values.${l}.value`] = none;
      } else {
        const past = await g.packPasts(pasts, requests.map((r) => r.store.length), pastRows);
        for (let l = 0; l < numLayers; l++) held.push((feeds[`past_key_values.${l}.key`] = past.keys[l]), (feeds[`past_key_values.${l}.value`] = past.values[l]));
      }
      const out = await runGuarded(decoder, feeds);
      const cutFeeds: Record<string, ort.Tensor> = {};
      for (let l = 0; l < numLayers; l++) {
        for (const kind of ['key', 'value'] as const) held.push((cutFeeds[`present_${kind}_${l}`] = own(output(out, `present.${l}.${kind}`, 'decoder_model_merged'))));
      }
      Object.assign(cutFeeds, cutInputs(requests.map((r) => r.store.length), requests.map((r) => r.tokens), pastRows, newRows, slots));
      const rows = await runGuarded(await g.batchGraph('present', slots), cutFeeds);
      requests.forEach((r, b) => {
        const take = (kind: string) => Array.from({ length: numLayers }, (_, l) => own(rows[`${kind}_${b}_${l}`]));
        r.store.append(take('key'), take('value'), r.tokens, positions?.[b]); // adopted: the stream's past and new rows
      });
      for (let b = batch; b < slots; b++) {
        for (let l = 0; l < numLayers; l++) [rows[`key_${b}_${l}`], rows[`value_${b}_${l}`]].forEach((t) => t.dispose());
      }
      return inputsPacker.lastLogits(requests, newRows, output(out, 'logits', 'decoder_model_merged').data as Float32Array);
    } finally {
      held.forEach(release);
    }
  }

  /**
   * Qwen2-VL: a second's frames as one video block, <|vision_start|> + the features of each temporal group +
   * <|vision_end|>; the encoder gets the flattened patches and one grid_thw row [1, h, w] per group.
   */
  async function encodeVideoBlock(pixelValues: Float32Array, frames: number): Promise<Float32Array> {
    const l = qwen!;
    const patches = patchify(pixelValues, frames, l);
    const rows = patches.length / (3 * l.temporal * l.patch * l.patch);
    const groups = rows / (l.gridH * l.gridW);
    const grid = Array.from({ length: groups }, () => [1, l.gridH, l.gridW]).flat();
    const feeds: Record<string, ort.Tensor> = {
      pixel_values: new ort.Tensor('float32', patches, [rows, patches.length / rows]),
      [gridName]: gridAsFloat ? new ort.Tensor('float32', Float32Array.from(grid), [groups, 3]) : new ort.Tensor('int64', BigInt64Array.from(grid, BigInt), [groups, 3]),
    };
    const features = output(await runGuarded(vision, feeds), 'image_features', 'vision_encoder').data as Float32Array;
    if (features.length !== groups * hf.imageSeqLen * d) {
      throw new SightlineError('model_invalid', `${label}: vision_encoder gave ${features.length / d} feature rows for ${groups} temporal groups, expected ${hf.imageSeqLen} each`);
    }
    const out = new Float32Array(frameBefore.length + features.length + frameAfter.length);
    put(out, frameAfter, put(out, features, put(out, frameBefore, 0)));
    return out;
  }

  /** The store's rows as past_key_values.N.*: host arrays wrapped, or the device tensors after the queued ops ran. */
  async function pastFeeds(store: KvStore): Promise<Record<string, ort.Tensor>> {
    const feeds: Record<string, ort.Tensor> = {};
    const ops = store.ops;
    if (ops instanceof GraphKvOps) {
      await store.flush();
      const rows = ops.past();
      for (let l = 0; l < numLayers; l++) {
        feeds[`past_key_values.${l}.key`] = rows?.keys[l] ?? emptyPast;
        feeds[`past_key_values.${l}.value`] = rows?.values[l] ?? emptyPast;
      }
      return feeds;
    }
    if (!(ops instanceof HeadMajorKvOps)) throw new TypeError('a Hugging Face decoder needs its stream store made by createKvOps (head-major K/V)');
    for (let l = 0; l < numLayers; l++) {
      feeds[`past_key_values.${l}.key`] = new ort.Tensor('float32', ops.keys[l], [1, numKvHeads, store.length, headDim]);
      feeds[`past_key_values.${l}.value`] = new ort.Tensor('float32', ops.values[l], [1, numKvHeads, store.length, headDim]);
    }
    return feeds;
  }
}

/** [tokens, 3] row-major positions -> position_ids [3, 1, tokens]. */
function axisMajor(positions: Int32Array, tokens: number): BigInt64Array {
  const out = new BigInt64Array(3 * tokens);
  for (let i = 0; i < tokens; i++) for (let a = 0; a < 3; a++) out[a * tokens + i] = BigInt(positions[i * 3 + a]);
  return out;
}

function put(out: Float32Array, part: Float32Array, at: number): number {
  out.set(part, at);
  return at + part.length;
}
