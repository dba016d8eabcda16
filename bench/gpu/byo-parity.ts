/**
 * The Hugging Face SmolVLM fixture on a provider against the PyTorch references stored beside it: vision
 * features and chunked decoder logits, max abs difference, one stream alone and 3 streams sharing each call
 * (started a chunk apart, so their pasts differ; kv_pack / kv_present on the provider). The CPU is tested in CI
 * (test/model/hf-smolvlm.test.ts, test/model/batching.test.ts); this is the same check for WebGPU.
 *
 *   npx tsx bench/gpu/byo-parity.ts [--model test/fixtures/models/hf-smolvlm-tiny] [--device webgpu]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { KvStore, inverseFrequencies } from '../../src/cache/index.js';
import { loadModelFolder } from '../../src/model/model-folder.js';
import { createOnnxBackend } from '../../src/model/onnx-backend.js';

const { values } = parseArgs({ options: { model: { type: 'string', default: 'test/fixtures/models/hf-smolvlm-tiny' }, device: { type: 'string', default: 'webgpu' } } });
const folder = loadModelFolder(values.model!);
const ref = JSON.parse(readFileSync(join(folder.dir, 'sightline-reference.json'), 'utf8')) as { inputIds: number[]; imageFeatures: number[]; chunks: number[]; lastLogits: number[][] };
const backend = await createOnnxBackend(folder, { provider: values.device!, intraOpThreads: 1, fallbackToCpu: false });
const d = backend.hiddenSize;
const size = folder.config.vision.imageWidth;
const seqLen = folder.hf!.imageSeqLen;
const imageId = 4;

function pixels(mirror: boolean): Float32Array {
  const out = new Float32Array(2 * 3 * size * size);
  for (let f = 0; f < 2; f++)
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < size; y++)
        for (let x = 0; x < size; x++) out[((f * 3 + c) * size + y) * size + x] = ((((mirror ? size - 1 - x : x) * 7 + y * 13 + c * 29 + f * 17) % 256) / 255 - 0.5) / 0.5;
  return out;
}
const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);

const feats: number[] = [];
for (const mirror of [false, true]) {
  const enc = await backend.encodeFrames(pixels(mirror), 2);
  const block = (2 + seqLen + 1) * d;
  for (let f = 0; f < 2; f++) feats.push(...enc.subarray(f * block + 2 * d, f * block + (2 + seqLen) * d));
}
const embeds = await backend.embedIds(ref.inputIds);
let image = 0;
ref.inputIds.forEach((id, i) => {
  if (id === imageId) embeds.set(feats.slice(image * d, ++image * d), i * d);
});
const { numLayers, numKvHeads, headDim } = folder.config.decoder;
const geometry = { numLayers, numKvHeads, headDim };
const store = new KvStore(geometry, 512, inverseFrequencies(folder.config.rope), backend.createKvOps!(geometry, 512));
const logitDiffs: number[] = [];
for (let c = 0; c + 1 < ref.chunks.length; c++) {
  const [a, b] = [ref.chunks[c], ref.chunks[c + 1]];
  logitDiffs.push(maxAbs(await backend.decode(embeds.subarray(a * d, b * d), b - a, store), ref.lastLogits[c]));
}
// Three streams in one call per round: stream b runs chunk (round - b), so each call mixes pasts and row counts.
const streams = 3;
const stores = Array.from({ length: streams }, () => new KvStore(geometry, 512, inverseFrequencies(folder.config.rope), backend.createKvOps!(geometry, 512)));
const chunkCount = ref.chunks.length - 1;
let batchedMaxAbs = 0;
let batchedCalls = 0;
for (let round = 0; round < chunkCount + streams - 1; round++) {
  const due = stores.map((store, b) => ({ store, c: round - b })).filter(({ c }) => c >= 0 && c < chunkCount);
  const requests = due.map(({ store, c }) => ({ store, tokens: ref.chunks[c + 1] - ref.chunks[c], embeds: embeds.subarray(ref.chunks[c] * d, ref.chunks[c + 1] * d) }));
  const logits = await backend.decodeBatch!(requests);
  batchedCalls++;
  due.forEach(({ c }, i) => (batchedMaxAbs = Math.max(batchedMaxAbs, maxAbs(logits[i], ref.lastLogits[c]))));
}
stores.forEach((s) => s.dispose());
console.log(JSON.stringify({ model: folder.config.name, provider: backend.provider, visionMaxAbs: maxAbs(feats, ref.imageFeatures), chunkLogitsMaxAbs: logitDiffs, batched: { streams, calls: batchedCalls, logitsMaxAbs: batchedMaxAbs } }));
await backend.dispose();
