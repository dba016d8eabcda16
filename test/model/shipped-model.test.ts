/**
 * The shipped default commentator (v5 with an int8 decoder and float16-stored vision weights, see its card)
 * against the PyTorch reference of the fp32 model it was made from: same greedy choice, close embeddings.
 * The reference is slimmed by scripts/slim-reference.ts (one frame, the last logits row).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KvStore, inverseFrequencies } from '../../src/cache/index.js';
import { SHIPPED_MODEL_DIR } from '../../src/model/default-model.js';
import { halfBitsToFloat } from '../../scripts/float16.js';
import { loadModel, type Tiny } from './helpers.js';

const REFERENCE = join(import.meta.dirname, '..', 'fixtures', 'references', 'sightline-commentator-v5.json');
const ref = JSON.parse(readFileSync(REFERENCE, 'utf8')) as {
  tokenizer: { text: string; ids: number[] }[];
  vision: { shape: number[]; pixel_values_f16_base64: string; visual_embeds_f32_base64: string };
  stepA: { ids: number[]; lastLogits_f32_base64: string };
};
const bytesOf = (b64: string): ArrayBuffer => {
  const bytes = Buffer.from(b64, 'base64');
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length);
};
const pixels = (): Float32Array => Float32Array.from(new Uint16Array(bytesOf(ref.vision.pixel_values_f16_base64)), halfBitsToFloat);
const visualEmbeds = new Float32Array(bytesOf(ref.vision.visual_embeds_f32_base64));
const lastLogits = new Float32Array(bytesOf(ref.stepA.lastLogits_f32_base64));
const argmax = (xs: ArrayLike<number>): number => {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i] > xs[best]) best = i;
  return best;
};

describe('shipped commentator vs the fp32 PyTorch reference', () => {
  let model: Tiny;
  afterAll(() => model?.backend.dispose());

  it('loads as a model folder of the v5 layout and tokenizes like HF tokenizers', async () => {
    model = await loadModel(SHIPPED_MODEL_DIR);
    expect(model.folder.config.name).toBe('sightline-commentator-v5-int8');
    for (const t of ref.tokenizer) expect(model.tokenizer.encode(t.text), t.text).toEqual(t.ids);
  });

  it('vision embeddings stay within float16 rounding of the reference (relative error < 1e-3)', async () => {
    const out = await model.backend.encodeFrames(pixels(), ref.vision.shape[0]);
    expect(out.length).toBe(visualEmbeds.length);
    let err = 0;
    let norm = 0;
    for (let i = 0; i < out.length; i++) {
      err += (out[i] - visualEmbeds[i]) ** 2;
      norm += visualEmbeds[i] ** 2;
    }
    expect(Math.sqrt(err / norm)).toBeLessThan(1e-3);
  });

  it('next-token choice after a prompt equals the fp32 reference, logits close (int8 error, not garbage)', async () => {
    const store = new KvStore(model.folder.config.decoder, 64, inverseFrequencies(model.folder.config.rope));
    const logits = await model.backend.decode(await model.backend.embedIds(ref.stepA.ids), ref.stepA.ids.length, store);
    expect(argmax(logits)).toBe(argmax(lastLogits));
    let err = 0;
    let norm = 0;
    for (let i = 0; i < logits.length; i++) {
      err += (logits[i] - lastLogits[i]) ** 2;
      norm += lastLogits[i] ** 2;
    }
    expect(Math.sqrt(err / norm)).toBeLessThan(0.1);
  });
});
