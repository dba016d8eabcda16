/**
 * The Hugging Face Qwen2-VL fixture on a provider, as test/model/hf-qwen2vl.test.ts checks it on the CPU: vision
 * features, every row's position and chunked decoder logits against PyTorch's, then 12 s of a stream with
 * `streaming` evictions whose cache is compared with a fresh encode of its kept rows on the same provider.
 *
 *   npx tsx bench/gpu/qwen-parity.ts [--model test/fixtures/models/hf-qwen2vl-tiny] [--device webgpu]
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { KvStore, inverseFrequencies } from '../../src/cache/index.js';
import type { VisualRows } from '../../src/model/backend.js';
import { loadModelFolder } from '../../src/model/model-folder.js';
import { createOnnxBackend } from '../../src/model/onnx-backend.js';
import { framesToPixelValues } from '../../src/model/preprocess.js';
import { StreamEngine } from '../../src/model/stream-engine.js';
import { TextTokenizer } from '../../src/model/tokenizer.js';

const { values } = parseArgs({ options: { model: { type: 'string', default: 'test/fixtures/models/hf-qwen2vl-tiny' }, device: { type: 'string', default: 'webgpu' } } });
const ref = JSON.parse(readFileSync(join(values.model!, 'sightline-reference.json'), 'utf8')) as {
  frames: { width: number; height: number }; inputIds: number[]; positions: number[][]; videoFeatures: number[]; chunks: number[]; lastLogits: number[][];
};
const { width: W, height: H } = ref.frames;
const dir = join(mkdtempSync(join(tmpdir(), 'qwen-')), 'model');
cpSync(values.model!, dir, { recursive: true });
writeFileSync(join(dir, 'sightline.json'), JSON.stringify({ frameWidth: W, frameHeight: H }));
const folder = loadModelFolder(dir);
const backend = await createOnnxBackend(folder, { provider: values.device!, intraOpThreads: 1, fallbackToCpu: false });
const tokenizer = new TextTokenizer(folder.tokenizerJson, folder.tokenizerConfig);
const d = backend.hiddenSize;
const geometry = folder.config.decoder;
const newStore = (rows: number) => new KvStore(geometry, rows, inverseFrequencies(folder.config.rope), backend.createKvOps?.(geometry, rows));
const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => (a.length !== b.length ? Infinity : Array.from(a).reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0));

function rgb(second: number, w: number, h: number, frames = 2): Uint8Array {
  const out = new Uint8Array(frames * h * w * 3);
  for (let f = 0; f < frames; f++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) out[((f * h + y) * w + x) * 3 + c] = (x * 7 + y * 13 + c * 29 + f * 17 + second * 101) % 256;
  return out;
}
const pixels = (second: number) => framesToPixelValues(rgb(second, W, H), 2, W, H, folder.config.vision);

// ---- against PyTorch
const blocks = [await backend.encodeFrames(pixels(0), 2), await backend.encodeFrames(pixels(1), 2)];
const feats = blocks.flatMap((b) => Array.from(b.subarray(d, b.length - d)));
const embeds = await backend.embedIds(ref.inputIds);
const starts = ref.inputIds.flatMap((t, i) => (t === tokenizer.singleTokenId('<|vision_start|>') ? [i] : []));
starts.forEach((at, k) => embeds.set(blocks[k], at * d));
const store = newStore(512);
const logitDiffs: number[] = [];
for (let c = 0; c + 1 < ref.chunks.length; c++) {
  const [a, b] = [ref.chunks[c], ref.chunks[c + 1]];
  const pictures: VisualRows[] = starts.filter((s) => s < b && s + 14 > a).map((s) => ({ at: Math.max(s, a) - a, rows: Math.min(s + 14, b) - Math.max(s, a), offset: Math.max(s, a) - s, blockRows: 14 }));
  logitDiffs.push(maxAbs(await backend.decode(embeds.subarray(a * d, b * d), b - a, store, pictures), ref.lastLogits[c]));
}
const positionsEqual = [0, 1, 2].every((axis) => ref.inputIds.every((_, r) => store.positions.at(r)[axis] === ref.positions[axis][r]));
store.dispose();

// ---- 12 s with streaming evictions, then the kept rows encoded afresh on the same provider
const engine = new StreamEngine(backend, tokenizer, folder.config, {
  policy: 'streaming', limits: { textSinkTokens: 6, textWindowTokens: 12, windowSec: 3 }, maxBytesPerStream: 64 << 20, prompt: '',
  sampling: { temperature: 0.9, topP: 0.95, repetitionPenalty: 1.05, seed: 1 }, maxTokensPerSecond: 4, repetitionWindowTokens: 32, quiet: {},
});
await engine.restart(['A man crosses the street.']);
for (let s = 0; s < 12; s++) await engine.step({ startSec: s, endSec: s + 1, pixelValues: pixels(s), frames: 2 });
const { layout } = engine.cache;
const parts: Float32Array[] = [await backend.embedIds([...layout.systemIds, ...layout.textSinkIds, ...layout.textWindowIds])];
const pictures: VisualRows[] = [];
let at = parts[0].length / d;
for (const r of layout.rounds) {
  const [head, block, rest] = [await backend.embedIds(r.headerIds), await backend.encodeFrames(pixels(r.startSec), 2), await backend.embedIds([...r.assistantIds, ...r.commentaryIds])];
  pictures.push({ at: at + head.length / d, rows: block.length / d, offset: 0, blockRows: block.length / d });
  at += (head.length + block.length + rest.length) / d;
  parts.push(head, block, rest);
}
const kept = new Float32Array(at * d);
parts.reduce((o, p) => (kept.set(p, o), o + p.length), 0);
const fresh = newStore(at);
await backend.decode(kept, at, fresh, pictures);
const [x, y] = [await engine.cache.store.read(), await fresh.read()];
const rows = [...Array(at).keys()];
console.log(JSON.stringify({
  model: folder.config.name, provider: backend.provider, kv: backend.kv,
  visionMaxAbs: maxAbs(feats, ref.videoFeatures), chunkLogitsMaxAbs: logitDiffs, positionsEqualTransformers: positionsEqual,
  afterEvictions: { rows: at, storeRows: engine.cache.store.length, positionsEqualFresh: rows.every((r) => engine.cache.store.positions.at(r).join() === fresh.positions.at(r).join()), layer0KeysMaxAbs: maxAbs(x.keys[0], y.keys[0]), layer0ValuesMaxAbs: maxAbs(x.values[0], y.values[0]) },
}));
fresh.dispose();
engine.dispose();
await backend.dispose();
