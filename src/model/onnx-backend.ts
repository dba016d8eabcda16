/** InferenceBackend on onnxruntime-node. Runs only inside engine.worker.ts (session.run blocks its thread). */
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import type { KvStore } from '../cache/index.js';
import { SightlineError } from '../errors.js';
import type { InferenceBackend } from './backend.js';
import type { ModelFolder } from './model-folder.js';
import { checkProvider } from './providers.js';

export interface BackendOptions {
  /** Execution provider name: cpu (default), cuda, webgpu, ... */
  provider: string;
  /** onnxruntime intra-op threads per session (1 keeps several workers from fighting over cores). */
  intraOpThreads: number;
}

async function openSession(folder: ModelFolder, path: string, o: BackendOptions): Promise<ort.InferenceSession> {
  try {
    return await ort.InferenceSession.create(path, {
      executionProviders: [o.provider],
      intraOpNumThreads: o.intraOpThreads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
  } catch (err) {
    const msg = ((err as Error).message ?? String(err)).split('\n')[0];
    // Tell a missing provider from a bad file: if the CPU provider loads the graph, the provider was the problem.
    if (o.provider !== 'cpu' && (await ort.InferenceSession.create(path).then((s) => s.release().then(() => true), () => false))) {
      throw new SightlineError('provider_unavailable', `execution provider "${o.provider}" failed to start: ${msg}`, { cause: err });
    }
    throw new SightlineError('model_invalid', `model folder ${folder.dir}: ${path.split('/').pop()} cannot be loaded: ${msg}`, { cause: err });
  }
}

export async function createOnnxBackend(folder: ModelFolder, options: BackendOptions): Promise<InferenceBackend> {
  await checkProvider(options.provider);
  const { config } = folder;
  const vision = await openSession(folder, folder.visionPath, options);
  const decoder = await openSession(folder, folder.decoderPath, options);
  const want = ['inputs_embeds', 'position_ids'];
  for (let l = 0; l < config.decoder.numLayers; l++) want.push(`past_key_${l}`, `past_value_${l}`);
  const missing = want.filter((n) => !decoder.inputNames.includes(n));
  if (missing.length > 0) {
    throw new SightlineError('model_invalid', `model folder ${folder.dir}: decoder.onnx lacks inputs ${missing.join(', ')} (docs/model-format.md)`);
  }
  const raw = readFileSync(folder.embeddingsPath);
  const table = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  const { hiddenSize: d, vocabSize, numLayers, numKvHeads, headDim } = config.decoder;
  const { imageWidth: w, imageHeight: h } = config.vision;

  return {
    hiddenSize: d,
    vocabSize,
    embedIds(ids) {
      const out = new Float32Array(ids.length * d);
      ids.forEach((id, i) => out.set(table.subarray(id * d, (id + 1) * d), i * d));
      return out;
    },
    async encodeFrames(pixelValues, frames) {
      const r = await vision.run({ pixel_values: new ort.Tensor('float32', pixelValues, [frames, 3, h, w]) });
      return r.visual_embeds.data as Float32Array;
    },
    async decode(embeds, tokens, store: KvStore) {
      const past = store.length;
      const positions = new BigInt64Array(tokens);
      for (let i = 0; i < tokens; i++) positions[i] = BigInt(past + i);
      const feeds: Record<string, ort.Tensor> = {
        inputs_embeds: new ort.Tensor('float32', embeds.subarray(0, tokens * d), [1, tokens, d]),
        position_ids: new ort.Tensor('int64', positions, [1, tokens]),
      };
      for (let l = 0; l < numLayers; l++) {
        feeds[`past_key_${l}`] = new ort.Tensor('float32', store.keyView(l), [1, past, numKvHeads, headDim]);
        feeds[`past_value_${l}`] = new ort.Tensor('float32', store.valueView(l), [1, past, numKvHeads, headDim]);
      }
      const out = await decoder.run(feeds);
      const keys: Float32Array[] = [];
      const values: Float32Array[] = [];
      for (let l = 0; l < numLayers; l++) {
        keys.push(out[`new_key_${l}`].data as Float32Array);
        values.push(out[`new_value_${l}`].data as Float32Array);
      }
      store.append(keys, values, tokens);
      const logits = out.logits.data as Float32Array;
      const rows = logits.length / vocabSize;
      return logits.slice((rows - 1) * vocabSize, rows * vocabSize);
    },
    async dispose() {
      await Promise.all([vision.release(), decoder.release()]);
    },
  };
}
