/**
 * The ONNX-graph cache ops (what runs on the GPU) on the CPU provider, against the host implementation:
 * same policies, same seconds, same rows after every eviction. Plus the tensor ledger and the guard.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CACHE_POLICIES, ContextCache, inverseFrequencies, type CachePolicyName, type ContextCacheOptions } from '../../src/cache/index.js';
import { liveTensors, runGuarded } from '../../src/model/device-tensors.js';
import { CacheGraphs, GraphKvOps } from '../../src/model/kv-graph-ops.js';
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
