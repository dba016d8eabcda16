/**
 * The ONNX-graph cache ops (what runs on the GPU) on the CPU provider, against the host implementation:
 * same policies, same seconds, same rows after every eviction. Plus the tensor ledger and the guard.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CACHE_POLICIES, ContextCache, KvStore, inverseFrequencies, type CachePolicyName, type ContextCacheOptions } from '../../src/cache/index.js';
import { liveTensors, own, release, runGuarded } from '../../src/model/device-tensors.js';
import { batchGraphSize, CacheGraphs, GraphKvOps, mergeGraph, cutInputs } from '../../src/model/kv-graph-ops.js';
import { GEOMETRY, ROPE, SYSTEM, catchUp, maxDiffFromFresh, rowIds, fakeRows, simulateSecond, smallCacheOptions } from '../cache/fake-attention.js';

const invFreq = inverseFrequencies(ROPE);
const wordsAt = (sec: number): number => (sec % 4 === 3 ? 0 : 1 + (sec % 5));

function options(policy: CachePolicyName, graphs?: CacheGraphs): ContextCacheOptions {
  return smallCacheOptions(policy, { ops: graphs ? () => new GraphKvOps(graphs) : undefined });
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

let graphs: CacheGraphs;
beforeAll(async () => {
  graphs = await CacheGraphs.create(GEOMETRY, 'cpu');
});
afterAll(() => graphs?.dispose());

describe.each(CACHE_POLICIES)('graph cache ops on the CPU provider == host ops (%s)', (policy) => {
  it('hold the same rows after every second (appends, evictions, trims, re-indexing)', async () => {
    const host = new ContextCache(options(policy));
    const graph = new ContextCache(options(policy, graphs));
    expect(graph.store.ops.name).toBe('onnx:cpu');
    host.reset(SYSTEM, []);
    graph.reset(SYSTEM, []);
    let evicted = 0;
    for (let sec = 0; sec < 30; sec++) {
      const a = simulateSecond(host, sec, wordsAt(sec), invFreq);
      const b = simulateSecond(graph, sec, wordsAt(sec), invFreq);
      expect(b).toBe(a);
      if (a < 0) break;
      evicted += a;
      expect(graph.store.length).toBe(host.store.length);
      const rows = await graph.store.read();
      for (let l = 0; l < GEOMETRY.numLayers; l++) {
        expect(maxDiff(rows.keys[l], host.store.keyView(l))).toBeLessThanOrEqual(1e-5);
        expect(maxDiff(rows.values[l], host.store.valueView(l))).toBe(0);
      }
    }
    if (policy !== 'full') expect(evicted).toBeGreaterThan(10);
    catchUp(host, invFreq); // what the next second does first (refresh re-encodes what it evicted)
    catchUp(graph, invFreq);
    // And equal to a fresh encode of the kept rows at 0..n-1 (what the host store is checked against).
    const fresh = fakeRows(rowIds(graph), 0, invFreq);
    const rows = await graph.store.read();
    for (let l = 0; l < GEOMETRY.numLayers; l++) expect(maxDiff(rows.keys[l], fresh.keys[l])).toBeLessThanOrEqual(1e-5);
    expect(maxDiffFromFresh(host, invFreq)).toBeLessThanOrEqual(1e-5);
    graph.store.dispose();
  });
});

describe('kv_merge: a batched step hands each stream its whole rows', () => {
  const { numLayers: L, numKvHeads: H, headDim: D } = GEOMETRY;
  const row = H * D;
  const rows = (n: number, seed: number): Float32Array => Float32Array.from({ length: n * row }, (_, i) => seed + i / 1000);

  it('each store adopts its past then its new rows, with no kv_append run of its own', async () => {
    const baseline = liveTensors().owned;
    const lengths = [3, 5];
    const fresh = [2, 1];
    const stores = lengths.map((n, b) => {
      const store = new KvStore(GEOMETRY, 32, invFreq, new GraphKvOps(graphs));
      store.append(Array.from({ length: L }, (_, l) => rows(n, 10 * b + l)), Array.from({ length: L }, (_, l) => rows(n, -10 * b - l)), n);
      return store;
    });
    for (const s of stores) await s.flush();
    const P = Math.max(...lengths);
    const T = Math.max(...fresh);
    // The packed past [2, P, H, D] as kv_pack leaves it (padding rows: anything) and a batch of new rows [2, T, H, D].
    const packedOf = async (kv: 'key' | 'value', l: number): Promise<Float32Array> => {
      const out = new Float32Array(2 * P * row).fill(99);
      for (let b = 0; b < 2; b++) out.set((await stores[b].read())[kv === 'key' ? 'keys' : 'values'][l], b * P * row);
      return out;
    };
    const feeds: Record<string, ort.Tensor> = {};
    for (let l = 0; l < L; l++) {
      for (const kv of ['key', 'value'] as const) {
        feeds[`past_${kv}_${l}`] = new ort.Tensor('float32', await packedOf(kv, l), [2, P, H, D]);
        feeds[`new_${kv}_${l}`] = new ort.Tensor('float32', rows(2 * T, kv === 'key' ? 500 + l : -500 - l), [2, T, H, D]);
      }
    }
    // The graph of 4 slots (batchGraphSize(3) = 4: graphs come in powers of two); the spare slots take a row of row 0.
    expect(batchGraphSize(3)).toBe(4);
    const cut = cutInputs(lengths, fresh, P, T, 4);
    expect([0, 1, 2, 3].map((b) => Number((cut[`ends_${b}`].data as BigInt64Array)[0] - (cut[`starts_${b}`].data as BigInt64Array)[0]))).toEqual([5, 6, 1, 1]);
    Object.assign(feeds, cut);
    const appendRuns = vi.spyOn(graphs.append.session, 'run');
    const out = await runGuarded(await graphs.batchGraph('merge', 4), feeds);
    expect(out.key_3_0.dims).toEqual([1, 1, H, D]); // a spare slot: one row of row 0
    for (let b = 0; b < 2; b++) {
      const before = await stores[b].read();
      const take = (kv: string): ort.Tensor[] => Array.from({ length: L }, (_, l) => own(out[`${kv}_${b}_${l}`]));
      stores[b].append(take('key'), take('value'), fresh[b]);
      const after = await stores[b].read();
      expect(stores[b].length).toBe(lengths[b] + fresh[b]);
      for (let l = 0; l < L; l++) {
        const newKeys = (feeds[`new_key_${l}`].data as Float32Array).subarray(b * T * row, (b * T + fresh[b]) * row);
        expect([...after.keys[l]]).toEqual([...before.keys[l], ...newKeys]);
        expect(after.values[l].length).toBe((lengths[b] + fresh[b]) * row);
      }
    }
    expect(appendRuns).not.toHaveBeenCalled();
    // Kernels (Reshape only relabels a buffer): one Slice per stream, layer and K/V, plus a Concat and a Gather.
    const kernels = (batch: number): number => mergeGraph(GEOMETRY, batch).nodes.filter((n) => n.op !== 'Reshape').length;
    expect(kernels(32)).toBe((32 + 2) * 2 * L);
    appendRuns.mockRestore();
    // New rows alone (not the whole) are still appended; a tensor of neither size is refused.
    const bad = own(new ort.Tensor('float32', rows(4, 0), [1, 4, H, D]));
    expect(() => stores[0].append(Array(L).fill(bad), Array(L).fill(bad), 2)).toThrow(/4 rows given, expected 2 new or 7 in all/);
    release(bad); // refused before the store's ops took it
    stores.forEach((s) => s.dispose());
    expect(liveTensors().owned).toBe(baseline);
  });
});

describe('kv_pack: the streams\' pasts as one padded past', () => {
  const { numLayers: L, numKvHeads: H, headDim: D } = GEOMETRY;
  const row = H * D;
  const rows = (n: number, seed: number): Float32Array => Float32Array.from({ length: n * row }, (_, i) => seed + i / 1000);

  it('gives each stream its rows, and never feeds the Concat an empty input (a stream without rows takes a filler row)', async () => {
    const baseline = liveTensors().owned;
    const lengths = [3, 0, 0, 2, 0];
    const stores = lengths.map((n, b) => {
      const store = new KvStore(GEOMETRY, 32, invFreq, new GraphKvOps(graphs));
      if (n > 0) store.append(Array.from({ length: L }, (_, l) => rows(n, 10 * b + l)), Array.from({ length: L }, (_, l) => rows(n, -10 * b - l)), n);
      return store;
    });
    for (const s of stores) await s.flush();
    const pasts = stores.map((s) => (s.ops as GraphKvOps).past());
    const P = Math.max(...lengths);
    const pack = await graphs.batchGraph('pack', batchGraphSize(lengths.length));
    const runs = vi.spyOn(pack.session, 'run');
    const out = await graphs.packPasts(pasts, lengths, P);
    const feeds = runs.mock.calls[0][0] as Record<string, ort.Tensor>;
    const empty = Object.entries(feeds).filter(([, t]) => t.size === 0).map(([name]) => name);
    expect(empty).toEqual([]);
    runs.mockRestore();
    for (let l = 0; l < L; l++) {
      expect(out.keys[l].dims).toEqual([lengths.length, P, H, D]);
      const keys = out.keys[l].data as Float32Array;
      const values = out.values[l].data as Float32Array;
      for (const b of [0, 3]) {
        const own = await stores[b].read();
        expect([...keys.subarray(b * P * row, (b * P + lengths[b]) * row)]).toEqual([...own.keys[l]]);
        expect([...values.subarray(b * P * row, (b * P + lengths[b]) * row)]).toEqual([...own.values[l]]);
      }
    }
    [...out.keys, ...out.values].forEach(release);
    stores.forEach((s) => s.dispose());
    expect(liveTensors().owned).toBe(baseline);
  });
});

describe('tensor ledger and guards', () => {
  it('every tensor the graph store holds is released: the live count returns to its baseline', async () => {
    const baseline = liveTensors().owned;
    const cache = new ContextCache(options('streaming', graphs));
    cache.reset(SYSTEM, []);
    for (let sec = 0; sec < 12; sec++) simulateSecond(cache, sec, wordsAt(sec), invFreq);
    await cache.store.flush();
    expect(liveTensors().owned).toBe(baseline + 2 * GEOMETRY.numLayers);
    for (let sec = 12; sec < 20; sec++) simulateSecond(cache, sec, wordsAt(sec), invFreq); // queued, not flushed
    cache.reset(SYSTEM, []);
    simulateSecond(cache, 20, 2, invFreq);
    cache.store.dispose();
    expect(liveTensors()).toEqual({ owned: baseline, gpu: 0 });
  });

  it('refuses to feed a GPU tensor to a CPU session', async () => {
    const gpu = ort.Tensor.fromGpuBuffer({ size: 16 } as never, { dataType: 'float32', dims: [1, 1, 1, 4] });
    expect(gpu.location).toBe('gpu-buffer');
    const feeds = { key_0: gpu, value_0: gpu, key_1: gpu, value_1: gpu };
    expect(() => runGuarded(graphs.read, feeds)).toThrow(/GPU tensor but the session runs on the CPU provider/);
  });

  it('no source file calls getData() (it aborts the process on gpu-buffer tensors in onnxruntime-node 1.30)', () => {
    const root = join(import.meta.dirname, '..', '..', 'src');
    const files: string[] = [];
    const walk = (dir: string): void => {
      for (const f of readdirSync(dir)) {
        const p = join(dir, f);
        if (statSync(p).isDirectory()) walk(p);
        else if (p.endsWith('.ts')) files.push(p);
      }
    };
    walk(root);
    expect(files.length).toBeGreaterThan(20);
    const offenders = files.filter((f) => /\.getData\s*\(/.test(readFileSync(f, 'utf8')));
    expect(offenders).toEqual([]);
  });
});
