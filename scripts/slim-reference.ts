/**
 * Writes the slim numerics reference of a commentator (test/fixtures/references/NAME.json) from the full
 * PyTorch reference.json of its fp32 export: one frame's pixels (float16 bits, base64: rounding them moves the
 * embeddings by ~1e-6 relative, against the test's 1e-3) and visual embeddings,
 * decoder step A's ids and last logits row (float32 bits, base64: exact, and a third of the JSON numbers' size),
 * and the tokenizer cases. The full file (5.7 MB) left models/.
 *
 *   scripts/restore-model.sh sightline-commentator-v5 && npx tsx scripts/slim-reference.ts .cache/models/sightline-commentator-v5
 *
 * Checks on the way that the fp32 vision graph gives the reference's first-frame embeddings for that frame
 * alone (frames are encoded independently), so one frame is a faithful slice.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { toHalfBits } from './float16.js';

const folder = process.argv[2];
if (!folder) throw new Error('usage: slim-reference.ts FP32_MODEL_FOLDER [OUT.json]');
const out = process.argv[3] ?? join(import.meta.dirname, '..', 'test', 'fixtures', 'references', `${basename(folder)}.json`);
const r = JSON.parse(readFileSync(join(folder, 'reference.json'), 'utf8'));
const [frames, c, h, w] = r.vision.shape as number[];
const perFrameOut = r.vision.visual_embeds.length / frames;
const pixels = Float32Array.from(r.vision.pixel_values.slice(0, c * h * w));
const embeds: number[] = r.vision.visual_embeds.slice(0, perFrameOut);

const session = await ort.InferenceSession.create(join(folder, 'vision.onnx'), { intraOpNumThreads: 1 });
const got = (await session.run({ pixel_values: new ort.Tensor('float32', pixels, [1, c, h, w]) }))[session.outputNames[0]].data as Float32Array;
const diff = got.reduce((m, v, i) => Math.max(m, Math.abs(v - embeds[i])), 0);
if (got.length !== embeds.length || diff > 1e-4) throw new Error(`frame 0 alone does not reproduce the reference (max abs diff ${diff})`);
await session.release();

const vocab = r.stepA.logitsShape[2];
const f32 = (xs: number[]): string => Buffer.from(Float32Array.from(xs).buffer).toString('base64');
mkdirSync(join(out, '..'), { recursive: true });
writeFileSync(
  out,
  JSON.stringify({
    source: `PyTorch reference of ${basename(folder)} (fp32 export), slimmed by scripts/slim-reference.ts`,
    tokenizer: r.tokenizer,
    vision: { shape: [1, c, h, w], pixel_values_f16_base64: Buffer.from(Uint16Array.from(pixels, toHalfBits).buffer).toString('base64'), visual_embeds_f32_base64: f32(embeds) },
    stepA: { ids: r.stepA.ids, positions: r.stepA.positions, lastLogits_f32_base64: f32(r.stepA.logits.slice(r.stepA.logits.length - vocab)) },
  }),
);
console.log(`${out}: frame 0 check max abs diff ${diff.toExponential(2)}`);
