/**
 * A Hugging Face SmolVLM folder (transformers.js ONNX layout) run by Sightline: the tiny random-weight fixture
 * made with transformers by train/byo/make_vlm_fixtures.py, against the PyTorch outputs stored beside it.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CachePolicyName } from '../../src/cache/index.js';
import { loadModelFolder } from '../../src/model/model-folder.js';
import { StreamEngine } from '../../src/model/stream-engine.js';
import { FIXTURES, freshLogits, freshStore, keptRowsEmbeds, loadModel, maxAbsDiff, pixelsFor, smallCacheEngineOptions, folderWithSettings, type Tiny } from './helpers.js';
import reference from '../fixtures/models/hf-smolvlm-tiny/sightline-reference.json' with { type: 'json' };

const DIR = join(FIXTURES, 'hf-smolvlm-tiny');
const IMAGE_ID = 4;

/** The script's frames: (x*7 + y*13 + c*29 + f*17) % 256, normalised with mean = std = 0.5; `mirror` flips left-right. */
function referencePixels(size: number, mirror: boolean): Float32Array {
  const out = new Float32Array(2 * 3 * size * size);
  for (let f = 0; f < 2; f++) {
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < size; y++) {
        for (let x = 0; x < size; x++) {
          const sx = mirror ? size - 1 - x : x;
          out[((f * 3 + c) * size + y) * size + x] = (((sx * 7 + y * 13 + c * 29 + f * 17) % 256) / 255 - 0.5) / 0.5;
        }
      }
    }
  }
  return out;
}


/** Feature rows of each frame inside encodeFrames' output (the processor's tokens around them left out). */
function featureRows(encoded: Float32Array, d: number, seqLen: number): Float32Array {
  const block = (2 + seqLen + 1) * d;
  const frames = encoded.length / block;
  const out = new Float32Array(frames * seqLen * d);
  for (let f = 0; f < frames; f++) out.set(encoded.subarray(f * block + 2 * d, f * block + (2 + seqLen) * d), f * seqLen * d);
  return out;
}

// `device`: K/V in the decoder's layout as provider tensors (GraphKvOps, head-major), the webgpu default, here on the CPU provider.
describe.each(['host', 'device'] as const)('Hugging Face SmolVLM folder (tiny fixture), K/V on %s ops', (kv) => {
  let tiny: Tiny;
  beforeAll(async () => {
    tiny = await loadModel(DIR, kv);
  });
  afterAll(() => tiny?.backend.dispose());

  it('is read as the smolvlm family with its sizes, template and plain (fp32) graphs', () => {
    const { config, hf } = tiny.folder;
    expect(hf).toMatchObject({ family: 'smolvlm', modelType: 'smolvlm', variant: 'fp32', imageSeqLen: 4 });
    expect(tiny.folder.decoderPath.endsWith('onnx/decoder_model_merged.onnx')).toBe(true);
    expect(config.decoder).toMatchObject({ hiddenSize: 64, numLayers: 2, numHeads: 4, numKvHeads: 2, headDim: 16, vocabSize: 384 });
    expect(config.rope.theta).toBe(100000);
    expect(config.vision).toMatchObject({ imageWidth: 64, imageHeight: 64, tokensPerFrame: 7, framesPerSecond: 2 });
    expect(config.chat.endOfTurn).toBe('<end_of_utterance>');
    expect(config.chat.silence).toBe('');
  });

  it('lays a second out as the chat template does (ids equal the reference conversation\'s first turns)', () => {
    const tok = tiny.tokenizer;
    const frame = [3, 5, ...Array(4).fill(IMAGE_ID), 3]; // <fake_token_around_image><global-img><image>x4<fake_token_around_image>
    // The reference used header "Time {start}-{end} s." (the default) and the instruction below.
    const folder = withSettings({ instruction: 'Describe what changed.' });
    const { chat } = loadModelFolder(folder).config;
    const ids = [
      ...tok.encode(chat.system.replace('{prompt}', 'You comment on a live video.')),
      ...tok.encode(chat.roundHeader.replace('{start}', '0').replace('{end}', '1')),
      ...frame,
      ...frame,
      ...tok.encode(chat.assistant),
      ...tok.encode(' A man crosses the street.'),
      tok.singleTokenId(chat.endOfTurn)!,
    ];
    expect(ids).toEqual(reference.inputIds.slice(0, ids.length));
    rmSync(folder, { recursive: true });
  });

  it('vision features and chunked decoder logits match PyTorch within 1e-4', async () => {
    const { backend } = tiny;
    const d = backend.hiddenSize;
    const seqLen = tiny.folder.hf!.imageSeqLen;
    const feats = new Float32Array([
      ...featureRows(await backend.encodeFrames(referencePixels(64, false), 2), d, seqLen),
      ...featureRows(await backend.encodeFrames(referencePixels(64, true), 2), d, seqLen),
    ]);
    expect(maxAbsDiff(feats, Float32Array.from(reference.imageFeatures))).toBeLessThanOrEqual(1e-4);

    const diffs = await chunkedLogitDiffs(tiny, feats, reference.lastLogits);
    diffs.forEach((diff) => expect(diff).toBeLessThanOrEqual(1e-4));
  });

  it('runs the int8 variant (onnxruntime dynamic quantization) as onnxruntime in Python does', async () => {
    const folder = withSettings({ variant: 'int8' });
    const q = await loadModel(folder, kv);
    try {
      expect(q.folder.hf!.variant).toBe('int8');
      expect(q.folder.decoderPath.endsWith('decoder_model_merged_int8.onnx')).toBe(true);
      // the image features as PyTorch gave them (there is no int8 vision file here)
      const diffs = await chunkedLogitDiffs(q, Float32Array.from(reference.imageFeatures), reference.int8.lastLogits);
      diffs.forEach((diff) => expect(diff).toBeLessThanOrEqual(1e-3));
    } finally {
      await q.backend.dispose();
      rmSync(folder, { recursive: true });
    }
  });

  // Two layers: `full` and `recompute` equal a fresh encode exactly; after `streaming` evictions the kept
  // rows' layer-1 K/V saw evicted tokens, so there the re-rotated layer-0 K/V are compared with a fresh encode.
  it.each<CachePolicyName>(['full', 'recompute', 'streaming', 'refresh'])('cache == fresh encode at the new positions: %s', async (policy) => {
    const engine = new StreamEngine(tiny.backend, tiny.tokenizer, tiny.folder.config, { ...smallCacheEngineOptions(policy), quiet: {} });
    await engine.restart([' A man crosses the street.', ' The bus stops.']);
    for (let sec = 0; sec < 12; sec++) await engine.step({ startSec: sec, endSec: sec + 1, pixelValues: pixelsFor(tiny.folder, sec), frames: 2 });
    const { cache } = engine;
    cache.beginSecond();
    await (engine as unknown as { catchUp(): Promise<void> }).catchUp();
    if (policy !== 'full') expect(cache.layout.rounds.length).toBe(3);
    const probe = tiny.tokenizer.encode(' man')[0];
    if (policy === 'full' || policy === 'recompute') {
      const expected = await freshLogits(tiny, cache, probe);
      const actual = await tiny.backend.decode(await tiny.backend.embedIds([probe]), 1, cache.store);
      expect(maxAbsDiff(actual, expected)).toBeLessThanOrEqual(1e-4);
      return;
    }
    const fresh = freshStore(tiny, 512);
    const kept = await keptRowsEmbeds(tiny, cache);
    await tiny.backend.decode(kept, kept.length / tiny.backend.hiddenSize, fresh);
    const [a, b] = [await cache.store.read(), await fresh.read()];
    expect(cache.store.length).toBe(fresh.length);
    expect(maxAbsDiff(a.keys[0], b.keys[0])).toBeLessThanOrEqual(1e-4);
    expect(maxAbsDiff(a.values[0], b.values[0])).toBeLessThanOrEqual(1e-4);
  });

  it('a second within minIntervalSec of a line, or barely changed, is silent without asking the model', async () => {
    const options = { ...smallCacheEngineOptions('streaming', { temperature: 0 }), maxTokensPerSecond: 3 };
    const talk = new StreamEngine(tiny.backend, tiny.tokenizer, tiny.folder.config, { ...options, quiet: {} });
    const quiet = new StreamEngine(tiny.backend, tiny.tokenizer, tiny.folder.config, { ...options, quiet: { minIntervalSec: 3 } });
    const still = new StreamEngine(tiny.backend, tiny.tokenizer, tiny.folder.config, { ...options, quiet: { minVisualChange: 0.5 } });
    for (const e of [talk, quiet, still]) await e.restart([]);
    const spoken = { talk: [] as boolean[], quiet: [] as boolean[], still: [] as boolean[] };
    for (let sec = 0; sec < 6; sec++) {
      const input = { startSec: sec, endSec: sec + 1, pixelValues: pixelsFor(tiny.folder, 0), frames: 2 }; // the same picture
      spoken.talk.push(!(await talk.step(input)).silent);
      spoken.quiet.push(!(await quiet.step(input)).silent);
      spoken.still.push(!(await still.step(input)).silent);
    }
    // random weights never pick the end of turn first here: every asked second speaks
    expect(spoken.talk).toEqual([true, true, true, true, true, true]);
    expect(spoken.quiet).toEqual([true, false, false, true, false, false]);
    expect(spoken.still).toEqual([true, false, false, false, false, false]);
    for (const e of [talk, quiet, still]) e.dispose();
  });
});

/**
 * The reference conversation (its ids, image tokens replaced by `feats` in order) decoded in the reference's
 * chunks into a fresh store: each chunk's last-row logits against `expected`, max abs difference.
 */
async function chunkedLogitDiffs(model: Tiny, feats: Float32Array, expected: number[][]): Promise<number[]> {
  const d = model.backend.hiddenSize;
  const ids = reference.inputIds;
  const embeds = await model.backend.embedIds(ids);
  let image = 0;
  ids.forEach((id, i) => {
    if (id === IMAGE_ID) embeds.set(feats.subarray(image++ * d, image * d), i * d);
  });
  const store = freshStore(model, 512);
  const cuts = reference.chunks;
  const diffs: number[] = [];
  for (let c = 0; c + 1 < cuts.length; c++) {
    const logits = await model.backend.decode(embeds.subarray(cuts[c] * d, cuts[c + 1] * d), cuts[c + 1] - cuts[c], store);
    diffs.push(maxAbsDiff(logits, Float32Array.from(expected[c])));
  }
  expect(store.length).toBe(ids.length);
  return diffs;
}

/** A copy of the fixture with a sightline.json. */
const withSettings = (settings: object): string => folderWithSettings(DIR, settings);
