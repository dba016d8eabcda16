/**
 * A Hugging Face Qwen2-VL folder (transformers.js ONNX layout) run by Sightline: the tiny random-weight fixture
 * made with transformers by train/byo/make_qwen2vl_fixture.py, against the PyTorch outputs stored beside it.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RowPositions, type CachePolicyName, type ContextCache } from '../../src/cache/index.js';
import type { VisualRows } from '../../src/model/backend.js';
import { stackRows } from '../../src/model/encoder.js';
import { framesToPixelValues } from '../../src/model/preprocess.js';
import { StreamEngine } from '../../src/model/stream-engine.js';
import { FIXTURES, freshStore, loadModel, maxAbsDiff, pixelsFor, qwen25Folder, smallCacheEngineOptions, folderWithSettings, type Tiny } from './helpers.js';
import qwen2Reference from '../fixtures/models/hf-qwen2vl-tiny/sightline-reference.json' with { type: 'json' };
import qwen25Reference from '../fixtures/models/hf-qwen25vl-tiny/sightline-reference.json' with { type: 'json' };

type Reference = typeof qwen2Reference;
const QWEN25_DIR = qwen25Folder();
afterAll(() => rmSync(join(QWEN25_DIR, '..'), { recursive: true, force: true }));
/** Both families' fixtures: the same reference shapes, frames and conversation; Qwen2.5-VL's vision tower differs. */
const FAMILIES: { name: string; dir: string; modelType: string; reference: Reference }[] = [
  { name: 'Qwen2-VL', dir: join(FIXTURES, 'hf-qwen2vl-tiny'), modelType: 'qwen2_vl', reference: qwen2Reference },
  { name: 'Qwen2.5-VL', dir: QWEN25_DIR, modelType: 'qwen2_5_vl', reference: qwen25Reference },
];
const { width: W, height: H } = qwen2Reference.frames;

/** The script's frames of `second`: (x*7 + y*13 + c*29 + f*17 + second*101) % 256, 2 frames of W x H. */
function referenceRgb(second: number): Uint8Array {
  const out = new Uint8Array(2 * H * W * 3);
  for (let f = 0; f < 2; f++) {
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) for (let c = 0; c < 3; c++) out[((f * H + y) * W + x) * 3 + c] = (x * 7 + y * 13 + c * 29 + f * 17 + second * 101) % 256;
  }
  return out;
}

describe('RowPositions: closing a gap moves later rows by its extent in positions', () => {
  it('a span with a picture moves later rows by its positions (fewer than its rows), on all three axes', () => {
    const p = new RowPositions(16);
    p.append(3); // text at 0, 1 and <|vision_start|> at 2
    const grid = [3, 4].flatMap((h) => [3, 4, 5].flatMap((w) => [3, h, w])); // a 2 x 3 picture from 3
    p.append(6, Int32Array.from(grid));
    p.append(2); // <|vision_end|> at 6 (the largest position + 1), text at 7
    expect([p.at(9), p.at(10)]).toEqual([[6, 6, 6], [7, 7, 7]]);
    expect(p.remove(2, 10)).toBe(5); // 8 rows, positions 2..6
    expect([p.at(1), p.at(2)]).toEqual([[1, 1, 1], [2, 2, 2]]);
    expect(p.nextAfter()).toBe(3);
    expect(p.remove(0, 1)).toBe(1); // text rows: one position a row
    expect(p.at(1)).toEqual([1, 1, 1]);
  });
});

// `device`: K/V in the decoder's layout as provider tensors (GraphKvOps, head-major), the webgpu default, here on the CPU provider.
describe.each(FAMILIES.flatMap((f) => (['host', 'device'] as const).map((kv) => ({ ...f, kv }))))('Hugging Face $name folder (tiny fixture), K/V on $kv ops', ({ dir, modelType, reference, kv }) => {
  let tiny: Tiny;
  let refModel: Tiny; // frames of the reference's size (32 x 24, not square)
  let refDir: string;
  beforeAll(async () => {
    tiny = await loadModel(dir, kv);
    refDir = folderWithSettings(dir, { frameWidth: W, frameHeight: H, instruction: 'Describe what changed.' });
    refModel = await loadModel(refDir, kv);
  });
  afterAll(async () => {
    await tiny?.backend.dispose();
    await refModel?.backend.dispose();
    rmSync(refDir, { recursive: true, force: true });
  });

  it('is read as the qwen2_vl family with its sizes, multimodal rotary sections, frame size and template', () => {
    const { config, hf } = tiny.folder;
    expect(hf).toMatchObject({ family: 'qwen2_vl', modelType, variant: 'fp32', imageSeqLen: 9 });
    expect(hf!.qwen).toEqual({ patch: 4, merge: 2, temporal: 2, gridH: 6, gridW: 6, mropeSection: [2, 3, 3] });
    expect(config.decoder).toMatchObject({ hiddenSize: 32, numLayers: 2, numHeads: 2, numKvHeads: 2, headDim: 16, vocabSize: 288 });
    // the default frame: the largest square of whole merged patches within max_pixels (24 x 24)
    expect(config.vision).toMatchObject({ imageWidth: 24, imageHeight: 24, framesPerSecond: 2 });
    expect(config.chat.endOfTurn).toBe('<|im_end|>');
    expect(refModel.folder.config.vision).toMatchObject({ imageWidth: 32, imageHeight: 24 });
    expect(refModel.folder.hf!.imageSeqLen).toBe(12);
  });

  it("lays a second out as the chat template does (ids equal the reference conversation's first turns)", () => {
    const tok = refModel.tokenizer;
    const { chat } = refModel.folder.config;
    const id = (t: string) => tok.singleTokenId(t)!;
    const ids = [
      ...tok.encode(chat.system.replace('{prompt}', 'You comment on a live video.')),
      ...tok.encode(chat.roundHeader.replace('{start}', '0').replace('{end}', '1')),
      id('<|vision_start|>'),
      ...Array(12).fill(id('<|video_pad|>')),
      id('<|vision_end|>'),
      ...tok.encode(chat.assistant),
      ...tok.encode('A man crosses the street.'),
      id(chat.endOfTurn),
    ];
    expect(ids).toEqual(reference.inputIds.slice(0, ids.length));
  });

  it('vision features, positions and chunked decoder logits match PyTorch within 1e-4', async () => {
    const { backend, folder } = refModel;
    const d = backend.hiddenSize;
    const blocks: Float32Array[] = [];
    for (const second of [0, 1]) blocks.push(await backend.encodeFrames(framesToPixelValues(referenceRgb(second), 2, W, H, folder.config.vision), 2));
    // each block: <|vision_start|>, 12 feature rows, <|vision_end|>
    const feats = stackRows(blocks.map((b) => b.subarray(d, b.length - d)));
    expect(maxAbsDiff(feats, Float32Array.from(reference.videoFeatures))).toBeLessThanOrEqual(1e-4);

    const store = freshStore(refModel, 512);
    const ids = reference.inputIds;
    const start = refModel.tokenizer.singleTokenId('<|vision_start|>')!;
    const embeds = await backend.embedIds(ids);
    const starts = ids.flatMap((t, i) => (t === start ? [i] : []));
    starts.forEach((at, k) => embeds.set(blocks[k], at * d));
    const cuts = reference.chunks;
    for (let c = 0; c + 1 < cuts.length; c++) {
      const [a, b] = [cuts[c], cuts[c + 1]];
      const logits = await backend.decode(embeds.subarray(a * d, b * d), b - a, store, picturesIn(starts, 14, a, b));
      expect(maxAbsDiff(logits, Float32Array.from(reference.lastLogits[c]))).toBeLessThanOrEqual(1e-4);
    }
    // the positions transformers' get_rope_index gives, kept per row by the store
    const kept = [0, 1, 2].map((axis) => ids.map((_, row) => store.positions.at(row)[axis]));
    expect(kept).toEqual(reference.positions);
  });

  it('a second with one frame is that frame twice (one temporal group, as Qwen\'s processors fill it)', async () => {
    const { backend, folder } = refModel;
    const one = framesToPixelValues(referenceRgb(0).subarray(0, H * W * 3), 1, W, H, folder.config.vision);
    const twice = stackRows([one, one]);
    expect(maxAbsDiff(await backend.encodeFrames(one, 1), await backend.encodeFrames(twice, 2))).toBe(0);
  });

  // Two layers: `full` and `recompute` equal a fresh encode exactly; after `streaming` evictions the kept rows'
  // layer-1 K/V saw evicted tokens, so there the re-rotated layer-0 K/V are compared with a fresh encode.
  it.each<CachePolicyName>(['full', 'recompute', 'streaming', 'refresh'])('cache == fresh encode at the new positions: %s', async (policy) => {
    const engine = new StreamEngine(tiny.backend, tiny.tokenizer, tiny.folder.config, { ...smallCacheEngineOptions(policy), quiet: {} });
    await engine.restart(['A man crosses the street.', 'The bus stops.']);
    for (let sec = 0; sec < 12; sec++) await engine.step({ startSec: sec, endSec: sec + 1, pixelValues: pixelsFor(tiny.folder, sec), frames: 2 });
    const { cache } = engine;
    cache.beginSecond();
    await (engine as unknown as { catchUp(): Promise<void> }).catchUp();
    if (policy !== 'full') expect(cache.layout.rounds.length).toBe(3);
    const { embeds, pictures } = await keptRows(tiny, cache);
    const rows = embeds.length / tiny.backend.hiddenSize;
    const fresh = freshStore(tiny, rows + 1);
    const probe = await tiny.backend.embedIds(tiny.tokenizer.encode(' man').slice(0, 1));
    try {
      await tiny.backend.decode(embeds, rows, fresh, pictures);
      // every kept row where a fresh encode puts it: the evicted spans' extents, not their row counts, closed
      expect([...Array(rows).keys()].map((r) => cache.store.positions.at(r))).toEqual([...Array(rows).keys()].map((r) => fresh.positions.at(r)));
      if (policy === 'full' || policy === 'recompute') {
        const expected = await tiny.backend.decode(probe, 1, fresh);
        const actual = await tiny.backend.decode(probe, 1, cache.store);
        expect(maxAbsDiff(actual, expected)).toBeLessThanOrEqual(1e-4);
        return;
      }
      const [a, b] = [await cache.store.read(), await fresh.read()];
      expect(cache.store.length).toBe(fresh.length);
      expect(maxAbsDiff(a.keys[0], b.keys[0])).toBeLessThanOrEqual(1e-4);
      expect(maxAbsDiff(a.values[0], b.values[0])).toBeLessThanOrEqual(1e-4);
    } finally {
      fresh.dispose();
      engine.dispose();
    }
  });
});

/** The visual blocks of `rows`-long blocks starting at `starts` that fall in [a, b), relative to a. */
function picturesIn(starts: number[], rows: number, a: number, b: number): VisualRows[] {
  return starts
    .filter((s) => s < b && s + rows > a)
    .map((s) => {
      const from = Math.max(s, a);
      return { at: from - a, rows: Math.min(s + rows, b) - from, offset: from - s, blockRows: rows };
    });
}

/** The embeddings of exactly the cache's kept rows, encoded afresh (visual blocks from the same frames), and where the blocks are. */
async function keptRows(tiny: Tiny, cache: ContextCache): Promise<{ embeds: Float32Array; pictures: VisualRows[] }> {
  const { backend, folder } = tiny;
  const d = backend.hiddenSize;
  const parts: Float32Array[] = [await backend.embedIds([...cache.layout.systemIds, ...cache.layout.textSinkIds, ...cache.layout.textWindowIds])];
  const pictures: VisualRows[] = [];
  let at = parts[0].length / d;
  for (const r of cache.layout.rounds) {
    const header = await backend.embedIds(r.headerIds);
    const block = await backend.encodeFrames(pixelsFor(folder, r.startSec), 2);
    const rest = await backend.embedIds([...r.assistantIds, ...r.commentaryIds]);
    at += header.length / d;
    pictures.push({ at, rows: block.length / d, offset: 0, blockRows: block.length / d });
    at += (block.length + rest.length) / d;
    parts.push(header, block, rest);
  }
  return { embeds: stackRows(parts), pictures };
}
