/** The TypeScript runtime against PyTorch reference outputs stored with each tiny model. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { KvStore, inverseFrequencies, rotateKeyRows } from '../../src/cache/index.js';
import { FIXTURES, loadModel, maxAbsDiff, type Tiny } from './helpers.js';

type StepRef = { ids: number[]; positions: number[]; logits: number[]; logitsShape: number[]; kvShape: number[] } & Record<string, number[]>;
interface Reference {
  tokenizer: { text: string; ids: number[] }[];
  vision: { shape: number[]; pixel_values: number[]; visual_embeds: number[] };
  stepA: StepRef;
  stepB: StepRef;
  stepShifted: StepRef;
}

const lastRow = (r: StepRef): number[] => {
  const v = r.logitsShape[2];
  return r.logits.slice(r.logits.length - v);
};

// The random-weight fixtures (the shipped model, int8, is checked against its fp32 reference in shipped-model.test.ts).
const MODELS: Array<[name: string, dir: string]> = [
  ['tiny-random-1l', join(FIXTURES, 'tiny-random-1l')],
  ['tiny-random-2l', join(FIXTURES, 'tiny-random-2l')],
];

describe.each(MODELS)('%s vs PyTorch', (name, dir) => {
  const ref = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')) as Reference;
  let tiny: Tiny;
  const layers = (JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { decoder: { numLayers: number } }).decoder.numLayers;
  afterAll(() => tiny?.backend.dispose());

  it('tokenizes like HF tokenizers', async () => {
    tiny = await loadModel(dir);
    for (const t of ref.tokenizer) expect(tiny.tokenizer.encode(t.text), t.text).toEqual(t.ids);
    expect(tiny.tokenizer.decode(tiny.tokenizer.encode(' ...'))).toBe(' ...');
  });

  it('vision embeddings match (max abs diff <= 1e-4)', async () => {
    const out = await tiny.backend.encodeFrames(Float32Array.from(ref.vision.pixel_values), ref.vision.shape[0]);
    expect(maxAbsDiff(out, ref.vision.visual_embeds)).toBeLessThanOrEqual(1e-4);
  });

  it('decoder steps match: logits and new keys/values, from empty and from a cached past', async () => {
    const store = new KvStore(tiny.folder.config.decoder, 64, inverseFrequencies(tiny.folder.config.rope));
    const logitsA = await tiny.backend.decode(await tiny.backend.embedIds(ref.stepA.ids), ref.stepA.ids.length, store);
    expect(maxAbsDiff(logitsA, lastRow(ref.stepA))).toBeLessThanOrEqual(1e-4);
    const logitsB = await tiny.backend.decode(await tiny.backend.embedIds(ref.stepB.ids), ref.stepB.ids.length, store);
    expect(maxAbsDiff(logitsB, lastRow(ref.stepB))).toBeLessThanOrEqual(1e-4);
    for (let l = 0; l < layers; l++) {
      expect(maxAbsDiff(store.keyView(l), [...ref.stepA[`new_key_${l}`], ...ref.stepB[`new_key_${l}`]])).toBeLessThanOrEqual(1e-4);
      expect(maxAbsDiff(store.valueView(l), [...ref.stepA[`new_value_${l}`], ...ref.stepB[`new_value_${l}`]])).toBeLessThanOrEqual(1e-4);
    }
  });

  it('keys encoded at positions 100.. and rotated by -100 equal keys encoded at 0.. (every layer)', async () => {
    const session = await ort.InferenceSession.create(tiny.folder.decoderPath, { intraOpNumThreads: 1 });
    const { hiddenSize: d, numKvHeads, headDim } = tiny.folder.config.decoder;
    const ids = ref.stepShifted.ids;
    const feeds: Record<string, ort.Tensor> = {
      inputs_embeds: new ort.Tensor('float32', await tiny.backend.embedIds(ids), [1, ids.length, d]),
      position_ids: new ort.Tensor('int64', BigInt64Array.from(ids.map((_, i) => BigInt(100 + i))), [1, ids.length]),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]),
    };
    for (let l = 0; l < layers; l++) {
      feeds[`past_key_${l}`] = new ort.Tensor('float32', new Float32Array(0), [1, 0, numKvHeads, headDim]);
      feeds[`past_value_${l}`] = feeds[`past_key_${l}`];
    }
    const out = await session.run(feeds);
    const invFreq = inverseFrequencies(tiny.folder.config.rope);
    for (let l = 0; l < layers; l++) {
      const keys = Float32Array.from(out[`new_key_${l}`].data as Float32Array);
      expect(maxAbsDiff(keys, ref.stepShifted[`new_key_${l}`])).toBeLessThanOrEqual(1e-4);
      rotateKeyRows(keys, 0, ids.length, numKvHeads, invFreq, -100);
      expect(maxAbsDiff(keys, ref.stepA[`new_key_${l}`])).toBeLessThanOrEqual(1e-4);
    }
    await session.release();
  });
});
