/** The shipped int8 variant against the fp32 model's PyTorch reference: same greedy choice, close logits. */
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KvStore, inverseFrequencies } from '../../src/cache/index.js';
import { SHIPPED_MODEL_DIR } from '../../src/model/default-model.js';
import { loadModel, type Tiny } from './helpers.js';

// The int8 variant ships beside the default model as NAME-int8 (docs/commentator-model.md).
const INT8_NAME = `${basename(SHIPPED_MODEL_DIR)}-int8`;
const INT8_DIR = join(SHIPPED_MODEL_DIR, '..', INT8_NAME);
const ref = JSON.parse(readFileSync(join(SHIPPED_MODEL_DIR, 'reference.json'), 'utf8')) as {
  vision: { shape: number[]; pixel_values: number[]; visual_embeds: number[] };
  stepA: { ids: number[]; logits: number[]; logitsShape: number[] };
};
const argmax = (xs: ArrayLike<number>): number => {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i] > xs[best]) best = i;
  return best;
};

describe(INT8_NAME, () => {
  let model: Tiny;
  afterAll(() => model?.backend.dispose());

  it('loads as a model folder of the same layout and names itself int8', async () => {
    model = await loadModel(INT8_DIR);
    expect(model.folder.config.name).toBe(INT8_NAME);
  });

  it('vision embeddings stay close to the fp32 reference (quantization error, not garbage)', async () => {
    const out = await model.backend.encodeFrames(Float32Array.from(ref.vision.pixel_values), ref.vision.shape[0]);
    let err = 0;
    let norm = 0;
    for (let i = 0; i < out.length; i++) {
      err += (out[i] - ref.vision.visual_embeds[i]) ** 2;
      norm += ref.vision.visual_embeds[i] ** 2;
    }
    expect(Math.sqrt(err / norm)).toBeLessThan(0.1);
  });

  it('next-token choice after a prompt equals the fp32 reference', async () => {
    const store = new KvStore(model.folder.config.decoder, 64, inverseFrequencies(model.folder.config.rope));
    const logits = await model.backend.decode(model.backend.embedIds(ref.stepA.ids), ref.stepA.ids.length, store);
    const vocab = ref.stepA.logitsShape[2];
    expect(argmax(logits)).toBe(argmax(ref.stepA.logits.slice(ref.stepA.logits.length - vocab)));
  });
});
