/**
 * Hugging Face CLIP/SigLIP encoder folders with graphs written here (siglip-fixture.ts, clip-fixture.ts):
 * layout detection (towers or model.onnx, onnx/ or top level, variants), SigLIP's preprocessing and scoring,
 * the idle tower of a combined graph, and one clear error per broken folder. The real exports' numerics
 * against PyTorch are in hf-reference.test.ts.
 */
import { cpSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { withRuntime } from './encoder-runtime.js';
import { buildIngestArgs } from '../../src/ingest/command.js';
import { openSource } from '../../src/ingest/index.js';
import { classifySource } from '../../src/ingest/source-kind.js';
import { openDualGraphs } from '../../src/model/encoders/hf-graphs.js';
import { createEncoderRuntime, loadEncoderFolder, siglipProbability, type EncoderRuntime } from '../../src/model/index.js';
import { bandedMp4 } from '../ingest/media.js';
import { writeClipFixture } from './clip-fixture.js';
import { combinedModel, SIGLIP_FIXTURE, textTower, visionTower, visionTowerFp16, writeSiglipFixture } from './siglip-fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'sightline-hf-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const towers = writeSiglipFixture(join(dir, 'siglip'));
const combined = writeSiglipFixture(join(dir, 'siglip-combined'), { combined: true });

/** `frames` frames of one flat colour, 32x32 RGB24. */
function flat(rgb: [number, number, number], frames = 1): Uint8Array {
  const out = new Uint8Array(frames * 32 * 32 * 3);
  for (let i = 0; i < out.length; i += 3) out.set(rgb, i);
  return out;
}
const dot = (a: Float32Array, b: Float32Array): number => a.reduce((s, v, i) => s + v * b[i], 0);

/** A copy of a fixture folder with `edit` applied. */
function variantOf(src: string, name: string, edit: (d: string) => void): string {
  const d = join(dir, name);
  cpSync(src, d, { recursive: true });
  edit(d);
  return d;
}

describe('SigLIP folders: reading', () => {
  it('takes the towers under onnx/, stretch-resizes to size, pads texts to 64 with "</s>", reads the scoring sidecar', () => {
    const spec = loadEncoderFolder(towers);
    expect(spec).toMatchObject({
      layout: 'siglip',
      name: 'siglip:tiny-colour-siglip',
      graphs: 'towers',
      videoPath: join(towers, 'onnx', 'vision_model.onnx'),
      imageWidth: 32,
      imageHeight: 32,
      fit: 'stretch',
      mean: [0.5, 0.5, 0.5],
      std: [0.5, 0.5, 0.5],
      maxTokens: 64,
      padTo: { length: 64, id: 1 },
      scoring: { bias: SIGLIP_FIXTURE.bias, from: 'sightline-scoring.json' },
    });
    expect(spec.scoring!.scale).toBeCloseTo(SIGLIP_FIXTURE.scale, 12);
    expect(loadEncoderFolder(combined)).toMatchObject({ graphs: 'combined', videoPath: join(combined, 'onnx', 'model.onnx'), textPath: join(combined, 'onnx', 'model.onnx') });
    expect(loadEncoderFolder(combined).scoring).toBeUndefined();
  });

  it('prefers towers to model.onnx, reads the top level when there is no onnx/, and picks --variant files', () => {
    const both = variantOf(towers, 'both', (d) => writeFileSync(join(d, 'onnx', 'model.onnx'), combinedModel()));
    expect(loadEncoderFolder(both).graphs).toBe('towers');
    const top = variantOf(towers, 'top', (d) => {
      renameSync(join(d, 'onnx', 'vision_model.onnx'), join(d, 'vision_model.onnx'));
      renameSync(join(d, 'onnx', 'text_model.onnx'), join(d, 'text_model.onnx'));
      rmSync(join(d, 'onnx'), { recursive: true });
    });
    expect(loadEncoderFolder(top)).toMatchObject({ graphs: 'towers', videoPath: join(top, 'vision_model.onnx') });
    const quant = variantOf(towers, 'quant', (d) => {
      writeFileSync(join(d, 'onnx', 'vision_model_quantized.onnx'), visionTower());
      writeFileSync(join(d, 'onnx', 'model_quantized.onnx'), combinedModel());
    });
    // Plain files unless asked; q8 is transformers.js's dtype name for _quantized; only the variant's files.
    expect(loadEncoderFolder(quant)).toMatchObject({ name: 'siglip:tiny-colour-siglip', videoPath: join(quant, 'onnx', 'vision_model.onnx') });
    expect(loadEncoderFolder(quant, { variant: 'quantized' })).toMatchObject({ name: 'siglip:tiny-colour-siglip@quantized', graphVariant: 'quantized', graphs: 'combined', videoPath: join(quant, 'onnx', 'model_quantized.onnx') });
    expect(loadEncoderFolder(quant, { variant: 'q8' }).graphVariant).toBe('quantized');
    expect(loadEncoderFolder(quant, { variant: 'fp32' }).graphVariant).toBeUndefined();
  });

  it('folds do_rescale / rescale_factor into mean and std over bytes, and keeps CLIP crops as cover', () => {
    const raw = variantOf(towers, 'raw-scale', (d) =>
      writeFileSync(join(d, 'preprocessor_config.json'), JSON.stringify({ size: { height: 16, width: 24 }, do_rescale: false, image_mean: [127.5, 127.5, 127.5], image_std: [127.5, 127.5, 127.5] })),
    );
    const spec = loadEncoderFolder(raw);
    expect(spec).toMatchObject({ imageWidth: 24, imageHeight: 16, fit: 'stretch' });
    for (let c = 0; c < 3; c++) expect([spec.mean[c], spec.std[c]]).toEqual([0.5, 0.5]);
    const cropped = variantOf(towers, 'cropped', (d) => writeFileSync(join(d, 'preprocessor_config.json'), JSON.stringify({ do_center_crop: true, crop_size: { height: 28, width: 28 }, size: { shortest_edge: 32 } })));
    expect(loadEncoderFolder(cropped)).toMatchObject({ imageWidth: 28, imageHeight: 28, fit: 'cover' });
  });
});

describe('SigLIP folders: running', () => {
  it('embeds frames and texts; the towers and model.onnx agree; the probability is sigmoid(scale * cos + bias)', async () => {
    const run = (folder: string) =>
      withRuntime(folder, async (rt) => {
        const [green, red] = await rt.embedClips([{ rgb: flat([0, 255, 0], 2), frames: 2 }, { rgb: flat([255, 0, 0]), frames: 1 }]);
        const texts = await rt.embedTexts(['the GREEN pitch', 'red', 'a blue video']);
        return { green, red, texts, one: await rt.embedText('the GREEN pitch'), scoring: rt.scoring, dim: rt.embedDim };
      });
    const a = await run(towers);
    const b = await run(combined);
    expect(a.dim).toBe(8);
    expect(dot(a.green, a.texts[0])).toBeGreaterThan(0.99);
    expect(dot(a.red, a.texts[1])).toBeGreaterThan(0.99);
    expect(dot(a.green, a.texts[1])).toBeLessThan(0);
    for (const [x, y] of [[a.green, b.green], [a.red, b.red], [a.one, b.one], ...a.texts.map((t, i) => [t, b.texts[i]])]) {
      for (let i = 0; i < 8; i++) expect(Math.abs(x[i] - y[i])).toBeLessThan(1e-6);
    }
    for (let i = 0; i < 8; i++) expect(Math.abs(a.one[i] - a.texts[0][i])).toBeLessThan(1e-6);
    // model.onnx has no sidecar: scale and bias are read off its logits.
    expect(b.scoring?.from).toBe('model.onnx logits');
    expect(b.scoring!.scale).toBeCloseTo(SIGLIP_FIXTURE.scale, 4);
    expect(b.scoring!.bias).toBeCloseTo(SIGLIP_FIXTURE.bias, 4);
    const cos = dot(a.green, a.texts[0]);
    expect(siglipProbability(cos, a.scoring!)).toBeCloseTo(1 / (1 + Math.exp(-(7 * cos - 2))), 12);
  });

  it('feeds the idle tower of model.onnx an empty batch, or one dummy row when the graph refuses it', async () => {
    const refusing = variantOf(combined, 'refusing', (d) => writeFileSync(join(d, 'onnx', 'model.onnx'), combinedModel({ refuseEmptyBatch: true })));
    const feeds = async (folder: string) => {
      const g = await openDualGraphs(loadEncoderFolder(folder), 1);
      try {
        const ids = [[5, 1, ...new Array<number>(62).fill(1)]];
        const [text] = await g.texts(ids, [ids[0].map((_, i) => (i < 2 ? 1 : 0))]);
        const [image] = await g.images(new Float32Array(3 * 32 * 32).fill(0.25), 1);
        return { feed: g.idleFeed!(), text, image };
      } finally {
        await g.release();
      }
    };
    const ok = await feeds(combined);
    const refused = await feeds(refusing);
    expect(ok.feed).toEqual({ idleText: 'empty batch', idleImage: 'empty batch' });
    // That graph fails on 0 images: text calls give its image tower one zero image instead.
    expect(refused.feed).toEqual({ idleText: 'empty batch', idleImage: 'one dummy row' });
    expect([...refused.text]).toEqual([...ok.text]);
    expect([...refused.image]).toEqual([...ok.image]);
  });
});

describe('CLIP/SigLIP folders: one clear error per broken folder', () => {
  const cases: [string, (d: string) => void, RegExp, string?][] = [
    ['unknown model_type', (d) => writeFileSync(join(d, 'config.json'), JSON.stringify({ model_type: 'blip' })), /config.json model_type is "blip"; Sightline runs retrieval encoders of type clip or siglip/],
    ['a tower missing', (d) => rmSync(join(d, 'onnx', 'text_model.onnx')), /onnx\/text_model.onnx is missing \(onnx\/vision_model.onnx is here; give both towers, or onnx\/model.onnx\)/],
    [
      'only a variant present',
      (d) => {
        renameSync(join(d, 'onnx', 'vision_model.onnx'), join(d, 'onnx', 'vision_model_fp16.onnx'));
        renameSync(join(d, 'onnx', 'text_model.onnx'), join(d, 'onnx', 'text_model_fp16.onnx'));
      },
      /onnx\/vision_model.onnx \+ onnx\/text_model.onnx or onnx\/model.onnx is missing; variants here: fp16 \(pass --variant NAME\)/,
    ],
    ['a variant not present', () => {}, /onnx\/vision_model_q4.onnx \+ onnx\/text_model_q4.onnx or onnx\/model_q4.onnx is missing; variants here: fp32 \(plain\)/, 'q4'],
    ['a bad variant name', () => {}, /--variant "\.\.\/x" is not a variant name/, '../x'],
    ['an empty graph file', (d) => writeFileSync(join(d, 'onnx', 'text_model.onnx'), ''), /onnx\/text_model.onnx is missing or empty/],
    ['a broken scoring sidecar', (d) => writeFileSync(join(d, 'sightline-scoring.json'), JSON.stringify({ logit_scale: 'big' })), /sightline-scoring.json needs numbers logit_scale/],
    ['a pad token the tokenizer lacks', (d) => writeFileSync(join(d, 'tokenizer_config.json'), JSON.stringify({ pad_token: '<nope>' })), /tokenizer.json has no token "<nope>" \(tokenizer_config.json pad_token\)/],
    ['a malformed preprocessor size', (d) => writeFileSync(join(d, 'preprocessor_config.json'), JSON.stringify({ size: 'big' })), /preprocessor_config.json: size is malformed/],
  ];
  for (const [what, edit, message, variant] of cases) {
    it(`refuses ${what} when the folder is read`, () => {
      const d = variantOf(towers, `bad-${what.replace(/\W+/g, '-')}`, edit);
      expect(() => loadEncoderFolder(d, { variant })).toThrow(message);
      try {
        loadEncoderFolder(d, { variant });
      } catch (err) {
        expect((err as { code?: string }).code).toBe('model_invalid');
        expect((err as Error).message).not.toContain('\n');
        expect((err as Error).message).toContain(d);
      }
    });
  }

  const graphCases: [string, (d: string) => void, RegExp][] = [
    ['a text graph that takes pixels', (d) => writeFileSync(join(d, 'onnx', 'text_model.onnx'), visionTower()), /onnx\/text_model.onnx lacks input input_ids \(its inputs: pixel_values\)/],
    ['an input Sightline does not feed', (d) => writeFileSync(join(d, 'onnx', 'text_model.onnx'), textTower('pooler_output', 'position_ids')), /onnx\/text_model.onnx has input position_ids, which Sightline does not feed \(it feeds input_ids, attention_mask\)/],
    ['an output of another name', (d) => writeFileSync(join(d, 'onnx', 'text_model.onnx'), textTower('hidden')), /onnx\/text_model.onnx lacks output text_embeds or pooler_output \(its outputs: hidden\)/],
    ['an image size the preprocessor does not give', (d) => writeFileSync(join(d, 'preprocessor_config.json'), JSON.stringify({ size: { height: 48, width: 48 } })), /onnx\/vision_model.onnx takes pixel_values \[N, 3, 32, 32\], but the preprocessor config gives 3 x 48 x 48/],
    ['float16 pixel values', (d) => writeFileSync(join(d, 'onnx', 'vision_model.onnx'), visionTowerFp16()), /onnx\/vision_model.onnx takes pixel_values as float16; Sightline feeds float32/],
    ['a model.onnx without pixel_values', (d) => {
      rmSync(join(d, 'onnx', 'vision_model.onnx'));
      writeFileSync(join(d, 'onnx', 'model.onnx'), textTower('text_embeds'));
    }, /onnx\/model.onnx lacks input pixel_values \(its inputs: input_ids\)/],
  ];
  for (const [what, edit, message] of graphCases) {
    it(`refuses ${what} when the graphs are opened`, async () => {
      const d = variantOf(towers, `graph-${what.replace(/\W+/g, '-')}`, edit);
      await expect(createEncoderRuntime(loadEncoderFolder(d))).rejects.toThrow(message);
    });
  }

  it('refuses a CLIP vision tower without image_embeds (pooler_output is not in the joint space)', async () => {
    const d = writeClipFixture(join(dir, 'clip-pooler'));
    writeFileSync(join(d, 'vision_model.onnx'), visionTower('pooler_output'));
    await expect(createEncoderRuntime(loadEncoderFolder(d))).rejects.toThrow(/vision_model.onnx lacks output image_embeds \(its outputs: pooler_output\)/);
  });

  it('reads a CLIP folder with model_type and graphs under onnx/ as before', () => {
    const d = writeClipFixture(join(dir, 'clip-onnx'));
    mkdirSync(join(d, 'onnx'));
    renameSync(join(d, 'vision_model.onnx'), join(d, 'onnx', 'vision_model.onnx'));
    renameSync(join(d, 'text_model.onnx'), join(d, 'onnx', 'text_model.onnx'));
    writeFileSync(join(d, 'config.json'), JSON.stringify({ model_type: 'clip', _name_or_path: 'org/tiny-colour-clip', text_config: { max_position_embeddings: 16 } }));
    expect(loadEncoderFolder(d)).toMatchObject({ layout: 'clip', name: 'clip:tiny-colour-clip', graphs: 'towers', fit: 'cover', imageWidth: 32, maxTokens: 16 });
    expect(loadEncoderFolder(d).padTo).toBeUndefined();
  });
});

describe("SigLIP's resize: stretch instead of cover + crop", () => {
  it('builds a scale to exactly width x height with no crop', () => {
    const base = { fps: 2, width: 32, height: 32, realtime: false, ioTimeoutMs: 3000, rtspTransport: 'tcp' as const, decoderThreads: 1, scaleFlags: 'bilinear', fastDecode: false, progressFd: 3 };
    const stretch = buildIngestArgs(classifySource('in.mp4'), { ...base, fit: 'stretch' });
    const vf = stretch[stretch.indexOf('-vf') + 1];
    expect(vf).toBe('fps=2,scale=32:32:flags=bilinear,setsar=1');
    const cover = buildIngestArgs(classifySource('in.mp4'), base);
    expect(cover[cover.indexOf('-vf') + 1]).toContain('force_original_aspect_ratio=increase:flags=bilinear,crop=32:32');
  });

  it('keeps the red sides of a 16:9 frame that cover + crop cuts off', async () => {
    const video = await bandedMp4(); // red 320x180 with a green band over x 80..240
    const pixel = async (fit: 'cover' | 'stretch') => {
      for await (const chunk of openSource(video, { width: 32, height: 32, fps: 2, seconds: 1, fit })) {
        const f = chunk.frames[0];
        const at = (16 * 32 + 5) * 3; // row 16, column 5
        return [f.rgb[at], f.rgb[at + 1]];
      }
      throw new Error('no frame');
    };
    const [sr, sg] = await pixel('stretch'); // column 5 of 32 = x 50 of 320: red
    const [cr, cg] = await pixel('cover'); // the centre 180x180 square: x 95 of 320, green
    expect(sr).toBeGreaterThan(200);
    expect(sg).toBeLessThan(60);
    expect(cg).toBeGreaterThan(200);
    expect(cr).toBeLessThan(60);
  });
});
