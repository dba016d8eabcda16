/**
 * Cross-stream batching (format-2 decoder, K/V on the host or on the graph ops; Hugging Face decoders, SmolVLM and Qwen2-VL, K/V on the host or the graph ops, head-major): streams stepped together through the BatchScheduler
 * share decoder calls, padded to the longest past and the most new rows, yet each stream's tokens are those
 * it gets alone and every logits vector it is handed is within 1e-4 of the one it gets alone, also when long
 * steps run as chunks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HeadMajorKvOps, KvStore } from '../../src/cache/index.js';
import type { DecodeRequest, InferenceBackend } from '../../src/model/backend.js';
import { BatchPacker } from '../../src/model/batch-packer.js';
import { HeadMajorPastPacker } from '../../src/model/hf-batch.js';
import { BatchScheduler } from '../../src/model/batch-scheduler.js';
import type { OnnxBackend } from '../../src/model/onnx-backend.js';
import { liveTensors } from '../../src/model/device-tensors.js';
import { StreamEngine } from '../../src/model/stream-engine.js';
import { freshStore, loadModel, loadTiny, maxAbsDiff, pixelsFor, smallCacheEngineOptions, FIXTURES, type Tiny } from './helpers.js';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const STREAMS = 4;
const SECONDS = 10;

/** A view of `inner` that records every logits vector handed to the engine using it. */
function recording(inner: InferenceBackend): { backend: InferenceBackend; logits: Float32Array[] } {
  const logits: Float32Array[] = [];
  const backend: InferenceBackend = {
    hiddenSize: inner.hiddenSize,
    vocabSize: inner.vocabSize,
    embedIds: (ids) => inner.embedIds(ids),
    encodeFrames: (p, f, owner) => inner.encodeFrames(p, f, owner),
    decode: async (e, t, s) => {
      const out = await inner.decode(e, t, s);
      logits.push(out);
      return out;
    },
    takeComputeMs: inner.takeComputeMs?.bind(inner),
    createKvOps: inner.createKvOps,
    dispose: async () => {},
  };
  return { backend, logits };
}

async function runStream(tiny: Tiny, backend: InferenceBackend, stream: number): Promise<string[]> {
  // Different seeds and pictures: the streams' lines, cache lengths and evictions differ.
  const engine = new StreamEngine(backend, tiny.tokenizer, tiny.folder.config, smallCacheEngineOptions('streaming', { seed: 11 + stream }));
  await engine.restart(stream % 2 === 0 ? [' Kick off.'] : []);
  const texts: string[] = [];
  for (let sec = 0; sec < SECONDS; sec++) {
    const r = await engine.step({ startSec: sec, endSec: sec + 1, pixelValues: pixelsFor(tiny.folder, 100 * stream + sec), frames: 2 });
    texts.push(r.text);
  }
  engine.dispose();
  return texts;
}

// `device`: K/V on the ONNX-graph ops (the GPU code path: kv_pack, kv_split), here on the CPU provider.
describe.each([
  ['tiny-random-1l', 'host'],
  ['tiny-random-2l', 'host'],
  ['tiny-random-2l', 'device'],
  // Head-major K/V padded per head, the present cut back per stream (hf-batch.ts).
  ['hf-smolvlm-tiny', 'host'],
  ['hf-smolvlm-tiny', 'device'],
  // Multimodal RoPE: position_ids [3, batch, rows] from each stream's visual rows, cut per chunk.
  ['hf-qwen2vl-tiny', 'host'],
  ['hf-qwen2vl-tiny', 'device'],
] as const)('%s, K/V on %s: batched streams == each stream alone', (name, kv) => {
  let tiny: Tiny;
  beforeAll(async () => {
    tiny = await loadTiny(name, kv);
  });
  afterAll(() => tiny?.backend.dispose());

  it.each([
    ['whole steps', {}],
    // Steps longer than 5 rows (every prefill, every re-encode) run as chunks over several flushes.
    ['steps chunked by 5 rows', { maxChunkRows: 5 }],
    // The GPU's grouping: one token and a prefill in the same call.
    ['all due steps in one call (chunks of 5 rows)', { maxChunkRows: 5, groupByRows: false }],
  ] as const)(`${STREAMS} streams stepped together, %s: same tokens, logits within 1e-4, fewer calls`, async (_, limits) => {
    const alone: { texts: string[]; logits: Float32Array[] }[] = [];
    for (let s = 0; s < STREAMS; s++) {
      const r = recording(tiny.backend);
      alone.push({ texts: await runStream(tiny, r.backend, s), logits: r.logits });
    }

    const batches: { size: number; pasts: Set<number>; rows: Set<number> }[] = [];
    const inner = tiny.backend;
    let visionCalls = 0;
    const scheduler = new BatchScheduler({
      ...inner,
      encodeFrames: (pixels, frames, owner) => {
        visionCalls++;
        return inner.encodeFrames(pixels, frames, owner);
      },
      decodeBatch: (requests: readonly DecodeRequest[]) => {
        batches.push({ size: requests.length, pasts: new Set(requests.map((r) => r.store.length)), rows: new Set(requests.map((r) => r.tokens)) });
        return inner.decodeBatch!(requests);
      },
    }, limits);
    const recorders = Array.from({ length: STREAMS }, () => recording(scheduler));
    const held = liveTensors().owned;
    const together = await Promise.all(recorders.map((r, s) => runStream(tiny, r.backend, s)));

    for (let s = 0; s < STREAMS; s++) {
      expect(together[s]).toEqual(alone[s].texts);
      expect(recorders[s].logits.length).toBe(alone[s].logits.length);
      const worst = Math.max(...recorders[s].logits.map((l, i) => maxAbsDiff(l, alone[s].logits[i])));
      expect(worst).toBeLessThanOrEqual(1e-4);
    }
    // It batched, with padding of both kinds: pasts of different lengths, and different numbers of new rows.
    const requests = batches.reduce((n, b) => n + b.size, 0);
    expect(requests / batches.length).toBeGreaterThan(1.5);
    expect(batches.some((b) => b.size > 1 && b.pasts.size > 1)).toBe(true);
    // Steps of different lengths share a call for sure only when rows are not grouped (the GPU's way).
    if ('groupByRows' in limits) expect(batches.some((b) => b.size > 1 && b.rows.size > 1)).toBe(true);
    expect(scheduler.stats.requests).toBe(requests);
    // Frames share vision calls only where each frame's rows stand alone (not a Qwen2-VL second's one block).
    if (inner.framesEncodeAlone) expect(visionCalls).toBeLessThan(STREAMS * SECONDS);
    else expect(visionCalls).toBe(STREAMS * SECONDS);
    expect(liveTensors().owned).toBe(held); // packed pasts and batched outputs released, streams' rows too
    if ('maxChunkRows' in limits) expect(Math.max(...batches.flatMap((b) => [...b.rows]))).toBe(limits.maxChunkRows);
  });
});

describe('BatchPacker', () => {
  const shape = { hiddenSize: 2, vocabSize: 3, numLayers: 1, numKvHeads: 1, headDim: 2 };
  const store = (rows: number[][], capacityTokens = 8): KvStore => {
    const keys = new Float32Array(rows.flat());
    return { length: rows.length, capacityTokens, keyView: () => keys, valueView: () => keys.map((x) => -x) } as unknown as KvStore;
  };

  it('pads each row to the longest past and the most new rows and masks the padding', () => {
    const a = { embeds: new Float32Array([1, 1, 2, 2]), tokens: 2, store: store([[9, 9]]) };
    const b = { embeds: new Float32Array([3, 3]), tokens: 1, store: store([[7, 7], [8, 8], [6, 6]]) };
    const packed = new BatchPacker(shape).pack([a, b]);
    expect([packed.batch, packed.pastRows, packed.newRows]).toEqual([2, 3, 2]);
    expect([...packed.embeds]).toEqual([1, 1, 2, 2, 3, 3, 0, 0]);
    expect([...packed.positions]).toEqual([1n, 2n, 3n, 4n]);
    // Columns: 3 past, then 2 new. Row a: 1 past row, 2 padding, 2 new; row b: 3 past, 1 new, 1 padding.
    expect([...packed.mask]).toEqual([1n, 0n, 0n, 1n, 1n, 1n, 1n, 1n, 1n, 0n]);
    expect([...packed.pastKeys[0]].slice(0, 2)).toEqual([9, 9]);
    expect([...packed.pastKeys[0]].slice(6, 12)).toEqual([7, 7, 8, 8, 6, 6]);
    expect([...packed.pastValues[0]].slice(6, 8)).toEqual([-7, -7]);
  });

  it('passes a batch of one as views of its own arrays, nothing padded', () => {
    const a = { embeds: new Float32Array([1, 1, 2, 2, 5, 5]), tokens: 2, store: store([[9, 9]]) };
    const packed = new BatchPacker(shape).pack([a]);
    expect(packed.embeds.buffer).toBe(a.embeds.buffer);
    expect(packed.embeds.length).toBe(4);
    expect(packed.pastKeys[0]).toBe(a.store.keyView(0));
    expect([...packed.mask]).toEqual([1n, 1n, 1n]);
  });

  it('sizes the past buffer for full caches at the first batch, so pasts growing to capacity never reallocate it', () => {
    const packer = new BatchPacker(shape);
    const rows = (n: number, v: number) => Array.from({ length: n }, () => [v, v]);
    const batchWithPast = (past: number) => [
      { embeds: new Float32Array([1, 1]), tokens: 1, store: store(rows(past, 1), 6) },
      { embeds: new Float32Array([2, 2]), tokens: 1, store: store(rows(1, 2), 6) },
    ];
    const first = packer.pack(batchWithPast(1));
    expect(first.pastKeys[0].buffer.byteLength).toBe(2 * 6 * 2 * 4); // batch x capacity x rowFloats x 4 bytes
    for (let past = 2; past <= 6; past++) {
      const packed = packer.pack(batchWithPast(past));
      expect(packed.pastKeys[0].buffer).toBe(first.pastKeys[0].buffer);
      const keys = packed.pastKeys[0];
      expect(keys.length).toBe(2 * past * 2);
      expect([...keys.subarray(0, past * 2)]).toEqual(rows(past, 1).flat()); // stream 0's rows
      expect([...keys.subarray(past * 2, past * 2 + 2)]).toEqual([2, 2]); // stream 1's one row, then padding
    }
  });

  it('told the most streams a batch holds, sizes the first past for that many full caches: a larger batch later reuses it', () => {
    const packer = new BatchPacker(shape);
    packer.expectBatches(4);
    const rows = (n: number, v: number) => Array.from({ length: n }, () => [v, v]);
    const batchOf = (n: number, past: number) => Array.from({ length: n }, (_, i) => ({ embeds: new Float32Array([i, i]), tokens: 1, store: store(rows(past, i + 1), 6) }));
    const first = packer.pack(batchOf(2, 1));
    expect(first.pastKeys[0].buffer.byteLength).toBe(4 * 6 * 2 * 4); // maxBatch x capacity x rowFloats x 4 bytes
    const full = packer.pack(batchOf(4, 6));
    expect(full.pastKeys[0].buffer).toBe(first.pastKeys[0].buffer);
    expect([...full.pastKeys[0].subarray(3 * 6 * 2)]).toEqual(rows(6, 4).flat()); // the last stream's rows
    // Untold, a packer sizes for the batch it sees, and a larger one later takes new memory.
    const untold = new BatchPacker(shape);
    const small = untold.pack(batchOf(2, 1));
    expect(untold.pack(batchOf(4, 6)).pastKeys[0].buffer).not.toBe(small.pastKeys[0].buffer);
  });

  it('makes the past resident for full caches of the open streams at the first batch, not page by page as pasts grow', () => {
    // Buffers over glibc's largest mmap threshold (32 MiB) are fresh mappings whose pages count towards RSS only
    // once written: 8 streams a batch at most x 49,152 rows x 64 floats = 96 MiB a buffer, keys and values; with 3
    // streams open, a first batch of 2 of them makes 3 x 12 MiB of each resident, 72 MiB in all.
    const wide = { ...shape, numKvHeads: 2, headDim: 32 };
    const capacity = 49_152;
    const oneRow = (): KvStore => {
      const keys = new Float32Array(64).fill(1);
      return { length: 1, capacityTokens: capacity, keyView: () => keys, valueView: () => keys } as unknown as KvStore;
    };
    const packer = new BatchPacker(wide);
    packer.expectBatches(8);
    packer.expectStreams(3);
    const before = process.memoryUsage().rss;
    const packed = packer.pack([0, 1].map(() => ({ embeds: new Float32Array(2), tokens: 1, store: oneRow() })));
    const grown = process.memoryUsage().rss - before;
    expect(packed.pastKeys[0].length).toBe(2 * 64); // the call itself uses one row a stream
    expect(grown).toBeGreaterThan(0.8 * 3 * 2 * capacity * 64 * 4);
    expect(grown).toBeLessThan(1.5 * 3 * 2 * capacity * 64 * 4); // not the 8 streams a batch could hold
  });

  it("the backend's expectStreams runs the largest call of the open streams at once, so onnxruntime's arena grows then", async () => {
    const tiny = await loadTiny('tiny-random-1l');
    const backend = tiny.backend as OnnxBackend;
    try {
      await backend.prepareBatches!(8);
      const before = process.memoryUsage().rss;
      await backend.expectStreams!(4, 4096, 64, 256);
      // That call's attention scores alone: 4 streams x 4 heads x 64 rows x 4,096 columns of float32 = 16 MiB, taken
      // by onnxruntime's CPU arena and kept (a plain expectStreams of the packer would take nothing until a batch).
      expect(process.memoryUsage().rss - before).toBeGreaterThan(12 * 2 ** 20);
    } finally {
      await tiny.backend.dispose();
    }
  });

  it('reuses its buffers from batch to batch, and a smaller batch after a larger one packs as a fresh packer would', () => {
    const packer = new BatchPacker(shape);
    const big = [
      { embeds: new Float32Array([1, 1, 2, 2, 4, 4]), tokens: 3, store: store([[9, 9], [9, 9], [9, 9], [9, 9]]) },
      { embeds: new Float32Array([3, 3, 5, 5, 6, 6]), tokens: 3, store: store([[7, 7], [8, 8], [6, 6], [5, 5]]) },
    ];
    const first = packer.pack(big);
    const small = [
      { embeds: new Float32Array([1, 1, 2, 2]), tokens: 2, store: store([[9, 9]]) },
      { embeds: new Float32Array([3, 3]), tokens: 1, store: store([[7, 7], [8, 8], [6, 6]]) },
    ];
    const second = packer.pack(small);
    // The same memory (no fresh arrays a call: they fragment a long-running worker's heap) ...
    for (const k of ['embeds', 'positions', 'mask'] as const) expect(second[k].buffer).toBe(first[k].buffer);
    expect(second.pastKeys[0].buffer).toBe(first.pastKeys[0].buffer);
    // ... and no trace of the larger batch in the inputs (the padding is zero, the mask exact).
    const fresh = new BatchPacker(shape).pack(small);
    for (const k of ['embeds', 'positions', 'mask'] as const) expect([...second[k]]).toEqual([...fresh[k]]);
  });
});

describe('a format-1 model folder (no batch, no mask)', () => {
  /**
   * The format-1 fixture keeps only what differs from tiny-random-1l (its config.json and its format-1
   * decoder.onnx); vision, embeddings and tokenizer are tiny-random-1l's, copied beside them here.
   */
  function format1Folder(): string {
    const dir = mkdtempSync(join(tmpdir(), 'sightline-format1-'));
    for (const f of ['config.json', 'decoder.onnx']) copyFileSync(join(FIXTURES, 'tiny-random-1l-format1', f), join(dir, f));
    for (const f of ['vision.onnx', 'embed_tokens.bin', 'tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(FIXTURES, 'tiny-random-1l', f), join(dir, f));
    return dir;
  }
  let v1: Tiny;
  let v2: Tiny;
  beforeAll(async () => {
    v1 = await loadModel(format1Folder());
    v2 = await loadTiny('tiny-random-1l');
  });
  afterAll(async () => {
    await v1?.backend.dispose();
    await v2?.backend.dispose();
  });

  it('still runs, one stream a call (no decodeBatch), with the same logits as its format-2 re-export', async () => {
    expect(v1.backend.decodeBatch).toBeUndefined();
    expect(v2.backend.decodeBatch).toBeDefined();
    const a = recording(v1.backend);
    const b = recording(v2.backend);
    expect(await runStream(v1, a.backend, 0)).toEqual(await runStream(v2, b.backend, 0));
    expect(Math.max(...a.logits.map((l, i) => maxAbsDiff(l, b.logits[i])))).toBeLessThanOrEqual(1e-5);
  });
});

describe('HeadMajorPastPacker (Hugging Face decoders, K/V on the host)', () => {
  const shape = { numLayers: 1, numKvHeads: 2, headDim: 2 };
  // A stream's head-major rows: head h, row r = [10h + r, -(10h + r)].
  const ops = (rows: number, seed: number): HeadMajorKvOps => {
    const keys = Float32Array.from({ length: 2 * rows * 2 }, (_, i) => seed + 10 * Math.floor(i / (rows * 2)) + Math.floor((i % (rows * 2)) / 2));
    return { keys: [keys], values: [keys.map((x) => -x)] } as unknown as HeadMajorKvOps;
  };

  it('sizes the past for the batch\'s full caches at once: pasts growing to capacity never reallocate it, and each head holds its rows', () => {
    const packer = new HeadMajorPastPacker(shape);
    const capacity = 6;
    const first = packer.pack([ops(1, 100), ops(1, 200)], [1, 1], 1, capacity);
    expect(first.keys[0].buffer.byteLength).toBe(2 * 2 * capacity * 2 * 4); // batch x heads x capacity x headDim x 4 bytes
    for (let past = 2; past <= capacity; past++) {
      const packed = packer.pack([ops(past, 100), ops(1, 200)], [past, 1], past, capacity);
      expect(packed.keys[0].buffer).toBe(first.keys[0].buffer);
      const keys = packed.keys[0];
      expect(keys.length).toBe(2 * 2 * past * 2);
      // Stream 0, head 1: its `past` rows; stream 1, head 0: its one row, then padding.
      expect([...keys.subarray(past * 2, 2 * past * 2)]).toEqual(Array.from({ length: past }, (_, r) => [110 + r, 110 + r]).flat());
      expect([...keys.subarray(2 * past * 2, 2 * past * 2 + 2)]).toEqual([200, 200]);
      expect(packed.values[0][past * 2]).toBe(-110);
    }
    // Without the capacity (as before) the buffer grows with the pasts.
    const untold = new HeadMajorPastPacker(shape);
    const small = untold.pack([ops(1, 100), ops(1, 200)], [1, 1], 1);
    expect(untold.pack([ops(6, 100), ops(1, 200)], [6, 1], 6).keys[0].buffer).not.toBe(small.keys[0].buffer);
  });
});

describe('K/V on the device: a stream with a past and a fresh one in one call', () => {
  it('each gets the logits and the rows it gets alone (kv_merge adopts the fresh one\'s new rows)', async () => {
    const tiny = await loadTiny('tiny-random-2l', 'device');
    const backend = tiny.backend as OnnxBackend;
    const d = tiny.folder.config.decoder.hiddenSize;
    const embeds = (rows: number, seed: number): Float32Array => Float32Array.from({ length: rows * d }, (_, i) => Math.sin(seed * 7.1 + i * 0.37) * 0.05);
    const alone = { a: freshStore(tiny, 32), b: freshStore(tiny, 32) };
    await backend.decode(embeds(3, 1), 3, alone.a);
    const logitsA = await backend.decode(embeds(2, 2), 2, alone.a);
    const logitsB = await backend.decode(embeds(2, 3), 2, alone.b);
    const together = { a: freshStore(tiny, 32), b: freshStore(tiny, 32) };
    await backend.decode(embeds(3, 1), 3, together.a);
    const [a, b] = await backend.decodeBatch!([
      { embeds: embeds(2, 2), tokens: 2, store: together.a },
      { embeds: embeds(2, 3), tokens: 2, store: together.b },
    ]);
    expect(maxAbsDiff(a, logitsA)).toBeLessThanOrEqual(1e-4);
    expect(maxAbsDiff(b, logitsB)).toBeLessThanOrEqual(1e-4);
    for (const s of ['a', 'b'] as const) {
      expect(together[s].length).toBe(alone[s].length);
      const [x, y] = [await together[s].read(), await alone[s].read()];
      for (let l = 0; l < x.keys.length; l++) expect(maxAbsDiff(x.keys[l], y.keys[l])).toBeLessThanOrEqual(1e-5);
    }
    [...Object.values(alone), ...Object.values(together)].forEach((s) => s.dispose());
    await backend.dispose();
  });
});
