/**
 * The KV cache's operations as small ONNX graphs on the decoder's execution provider, so a stream's
 * K/V stay where the decoder left them (GPU memory on webgpu) for the stream's whole life:
 *
 *   kv_append  past [1,P,H,D] ++ new [1,T,H,D] -> [1,P+T,H,D]              (Concat, axis 1)
 *   kv_gather  keep rows idx[N] of [1,P,H,D]; keys rotated per row by        (Gather, Slice, Mul, Sub,
 *              table row rot[n]: (x1,x2) -> (x1 c - x2 s, x2 c + x1 s)       Add, Concat, Reshape)
 *              (evict rounds, move commentary into previous text, trim sink + window, truncate:
 *              all are "keep these rows, re-index their positions")
 *   kv_read    Identity with outputs on the CPU: the only way back to host (tests, numerics checks)
 *   kv_pack    B streams' rows -> one batch [B,P,H,D]: Concat all, Gather   (Concat, Gather, Reshape;
 *              idx[B*P] (padding -> row 0, masked by the decoder)            graphs of 2, 4, 8, ... parts)
 *   kv_split   a batch's new rows [B,T,H,D] -> stream b's rows [1,T_b,H,D]    (Reshape, Gather, a Slice
 *              (a batch whose pasts are all empty)                           each; 2, 4, 8, ... slots)
 *   kv_merge   a batch's packed past and new rows -> stream b's whole rows    (Concat, Reshape, Gather,
 *              [1,P_b+T_b,H,D], which its store adopts (no append of its own)  a Slice each; as kv_split)
 *   head-major (Hugging Face decoders): kv_pack gives [B,H,P,D] (Gather on the row axis, then Reshape and
 *              Transpose); kv_present cuts stream b's whole rows [1,H,P_b+T_b,D] out of the batch's present
 *              [B,H,P+T,D] (its past rows, then its new rows at P..; Transpose, Reshape, Gather, a Slice each)
 *
 * The rotation angles come from KvStore in float64 (cos/sin tables of one row per distinct delta,
 * uploaded as float32), so graph and host implementations rotate by the same angles.
 * On the CPU provider the same graphs run on host memory: CI checks them against HostKvOps.
 */
import * as ort from 'onnxruntime-node';
import { headToSeqMajor, type KvGeometry, type KvOps, type KvRows, type RowRotation } from '../cache/index.js';
import { own, release, runGuarded, type GuardedSession } from './device-tensors.js';
import { buildModel, DT, type GraphSpec, type NodeSpec } from './onnx-graph.js';
import { memoryPatterns, providerOptions } from './onnx-session.js';

const i64 = (xs: number[]): BigInt64Array => BigInt64Array.from(xs.map(BigInt));

/**
 * Where the row axis is: `seq-major` [1, rows, H, D] (our decoders), or `head-major` [1, H, rows, D] (Hugging
 * Face decoders' past_key_values / present, which a head-major store adopts whole instead of appending).
 */
export type KvLayout = 'seq-major' | 'head-major';
const rowAxis = (layout: KvLayout): number => (layout === 'seq-major' ? 1 : 2);
const dimsOf = (layout: KvLayout, rows: string, H: number, D: number): (number | string)[] => (layout === 'seq-major' ? [1, rows, H, D] : [1, H, rows, D]);

export function appendGraph(g: KvGeometry): GraphSpec {
  const { numLayers: L, numKvHeads: H, headDim: D } = g;
  const spec: GraphSpec = { name: 'kv_append', inputs: [], outputs: [], nodes: [] };
  for (let l = 0; l < L; l++) {
    for (const kv of ['key', 'value']) {
      spec.inputs.push({ name: `past_${kv}_${l}`, type: DT.float, dims: [1, 'P', H, D] }, { name: `new_${kv}_${l}`, type: DT.float, dims: [1, 'T', H, D] });
      spec.outputs.push({ name: `out_${kv}_${l}`, type: DT.float, dims: [1, 'N', H, D] });
      spec.nodes.push({ op: 'Concat', inputs: [`past_${kv}_${l}`, `new_${kv}_${l}`], outputs: [`out_${kv}_${l}`], attrs: { axis: 1 } });
    }
  }
  return spec;
}

export function gatherGraph(g: KvGeometry, layout: KvLayout = 'seq-major'): GraphSpec {
  const { numLayers: L, numKvHeads: H, headDim: D } = g;
  const half = D / 2;
  const axis = rowAxis(layout);
  const nodes: NodeSpec[] = [
    { op: 'Gather', inputs: ['cos', 'rot'], outputs: ['cos_rows'], attrs: { axis: 0 } },
    { op: 'Gather', inputs: ['sin', 'rot'], outputs: ['sin_rows'], attrs: { axis: 0 } },
    { op: 'Reshape', inputs: ['cos_rows', 'shape4'], outputs: ['c'] },
    { op: 'Reshape', inputs: ['sin_rows', 'shape4'], outputs: ['s'] },
  ];
  const spec: GraphSpec = {
    name: 'kv_gather',
    inputs: [],
    outputs: [],
    nodes,
    initializers: [
      { name: 'shape4', type: DT.int64, dims: [4], data: i64(layout === 'seq-major' ? [1, -1, 1, half] : [1, 1, -1, half]) },
      { name: 'zero', type: DT.int64, dims: [1], data: i64([0]) },
      { name: 'half', type: DT.int64, dims: [1], data: i64([half]) },
      { name: 'full', type: DT.int64, dims: [1], data: i64([D]) },
      { name: 'axis3', type: DT.int64, dims: [1], data: i64([3]) },
    ],
  };
  for (let l = 0; l < L; l++) {
    spec.inputs.push({ name: `key_${l}`, type: DT.float, dims: dimsOf(layout, 'P', H, D) }, { name: `value_${l}`, type: DT.float, dims: dimsOf(layout, 'P', H, D) });
    spec.outputs.push({ name: `out_key_${l}`, type: DT.float, dims: dimsOf(layout, 'N', H, D) }, { name: `out_value_${l}`, type: DT.float, dims: dimsOf(layout, 'N', H, D) });
    const k = (s: string): string => `${s}_${l}`;
    nodes.push(
      { op: 'Gather', inputs: [`key_${l}`, 'idx'], outputs: [k('kg')], attrs: { axis } },
      { op: 'Slice', inputs: [k('kg'), 'zero', 'half', 'axis3'], outputs: [k('x1')] },
      { op: 'Slice', inputs: [k('kg'), 'half', 'full', 'axis3'], outputs: [k('x2')] },
      { op: 'Mul', inputs: [k('x1'), 'c'], outputs: [k('x1c')] },
      { op: 'Mul', inputs: [k('x2'), 's'], outputs: [k('x2s')] },
      { op: 'Mul', inputs: [k('x2'), 'c'], outputs: [k('x2c')] },
      { op: 'Mul', inputs: [k('x1'), 's'], outputs: [k('x1s')] },
      { op: 'Sub', inputs: [k('x1c'), k('x2s')], outputs: [k('r1')] },
      { op: 'Add', inputs: [k('x2c'), k('x1s')], outputs: [k('r2')] },
      { op: 'Concat', inputs: [k('r1'), k('r2')], outputs: [`out_key_${l}`], attrs: { axis: 3 } },
      { op: 'Gather', inputs: [`value_${l}`, 'idx'], outputs: [`out_value_${l}`], attrs: { axis } },
    );
  }
  spec.inputs.push(
    { name: 'idx', type: DT.int64, dims: ['N'] },
    { name: 'rot', type: DT.int64, dims: ['N'] },
    { name: 'cos', type: DT.float, dims: ['R', half] },
    { name: 'sin', type: DT.float, dims: ['R', half] },
  );
  return spec;
}

export function readGraph(g: KvGeometry, layout: KvLayout = 'seq-major'): GraphSpec {
  const { numLayers: L, numKvHeads: H, headDim: D } = g;
  const spec: GraphSpec = { name: 'kv_read', inputs: [], outputs: [], nodes: [] };
  for (let l = 0; l < L; l++) {
    for (const kv of ['key', 'value']) {
      spec.inputs.push({ name: `${kv}_${l}`, type: DT.float, dims: dimsOf(layout, 'P', H, D) });
      spec.outputs.push({ name: `out_${kv}_${l}`, type: DT.float, dims: dimsOf(layout, 'P', H, D) });
      spec.nodes.push({ op: 'Identity', inputs: [`${kv}_${l}`], outputs: [`out_${kv}_${l}`] });
    }
  }
  return spec;
}

/**
 * Batched decoder calls with K/V on the device: the streams' rows packed into one past tensor. `shape` is
 * [B, P, H, D] (seq-major) or [H, B, P, D] (head-major: the gathered [1, H, B*P, D] is then transposed).
 */
export function packGraph(g: KvGeometry, batch: number, layout: KvLayout = 'seq-major'): GraphSpec {
  const { numLayers: L, numKvHeads: H, headDim: D } = g;
  const axis = rowAxis(layout);
  const spec: GraphSpec = {
    name: `kv_pack_${batch}`,
    inputs: [
      { name: 'idx', type: DT.int64, dims: ['N'] },
      { name: 'shape', type: DT.int64, dims: [4] },
    ],
    outputs: [],
    nodes: [],
  };
  for (let l = 0; l < L; l++) {
    for (const kv of ['key', 'value']) {
      const parts = Array.from({ length: batch }, (_, b) => `${kv}_${b}_${l}`); // output rows: idx's, not parts'
      for (const name of parts) spec.inputs.push({ name, type: DT.float, dims: dimsOf(layout, `P${name}`, H, D) });
      const out = `past_${kv}_${l}`;
      spec.outputs.push({ name: out, type: DT.float, dims: layout === 'seq-major' ? ['B', 'P', H, D] : ['B', H, 'P', D] });
      const shaped = layout === 'seq-major' ? out : `shaped_${kv}_${l}`;
      spec.nodes.push(
        { op: 'Concat', inputs: parts, outputs: [`all_${kv}_${l}`], attrs: { axis } },
        { op: 'Gather', inputs: [`all_${kv}_${l}`, 'idx'], outputs: [`rows_${kv}_${l}`], attrs: { axis } },
        { op: 'Reshape', inputs: [`rows_${kv}_${l}`, 'shape'], outputs: [shaped] },
      );
      if (layout === 'head-major') spec.nodes.push({ op: 'Transpose', inputs: [shaped], outputs: [out], attrs: { perm: [1, 0, 2, 3] } });
    }
  }
  return spec;
}

/**
 * A head-major batched step's present [B, H, P+T, D] -> stream b's whole rows [1, H, P_b+T_b, D]: its P_b past rows,
 * then its T_b new rows (at P..), which its store adopts (`idx` and the bounds: cutInputs). Heads
 * first, [1, H, B * (P+T), D], then one Gather and one Slice per stream along the rows (cutGraph). Slots past the
 * batch take one row of row 0.
 */
export function presentGraph(g: KvGeometry, slots: number): GraphSpec {
  const { numLayers: L, numKvHeads: H, headDim: D } = g;
  const spec = cutSpec(`kv_present_${slots}`, slots, [1, H, -1, D], 2);
  for (let l = 0; l < L; l++) {
    for (const kv of ['key', 'value']) {
      const present = `present_${kv}_${l}`;
      spec.inputs.push({ name: present, type: DT.float, dims: ['B', H, 'W', D] });
      spec.nodes.push(
        { op: 'Transpose', inputs: [present], outputs: [`heads_${kv}_${l}`], attrs: { perm: [1, 0, 2, 3] } },
        { op: 'Reshape', inputs: [`heads_${kv}_${l}`, 'flat'], outputs: [`flat_${kv}_${l}`] },
      );
      cutRows(spec, `flat_${kv}_${l}`, 2, `${kv}_%_${l}`, slots, (b) => [1, H, `N${b}`, D]);
    }
  }
  return spec;
}

/**
 * Each slot's rows of [B, R, H, D] inputs joined along rows (`sources`: the packed past and the new rows, or the
 * new rows alone), laid flat as [1, B * R, H, D] and cut: one Gather of every stream's rows in turn (`idx`), then
 * one Slice per stream of its run (`starts_b`, `ends_b`: [offset], [offset + N_b]), giving [1, N_b, H, D]. On
 * WebGPU each kernel costs the host about the same whatever its size, and cutting each stream's past and new rows
 * apart took 3 per stream, layer and K/V (768 at 16 streams, more than the decoder's 470 ops;
 * bench/results/decoder-graph.md); this takes 1 per stream plus 2. Not a Split into all the streams at once:
 * onnxruntime's WebGPU Split (its source, late 2026) binds every output in one shader, against a limit on the
 * buffers a shader binds, and its float path compiles a shader for each set of sizes, which change every step.
 */
function cutGraph(g: KvGeometry, name: string, slots: number, sources: readonly ('past' | 'new')[]): GraphSpec {
  const { numLayers: L, numKvHeads: H, headDim: D } = g;
  const spec = cutSpec(name, slots, [1, -1, H, D], 1);
  for (let l = 0; l < L; l++) {
    for (const kv of ['key', 'value']) {
      const inputs = sources.map((src) => `${src}_${kv}_${l}`);
      for (const [i, input] of inputs.entries()) spec.inputs.push({ name: input, type: DT.float, dims: ['B', sources[i] === 'past' ? 'P' : 'T', H, D] });
      if (inputs.length > 1) spec.nodes.push({ op: 'Concat', inputs, outputs: [`all_${kv}_${l}`], attrs: { axis: 1 } });
      spec.nodes.push({ op: 'Reshape', inputs: [inputs.length > 1 ? `all_${kv}_${l}` : inputs[0], 'flat'], outputs: [`flat_${kv}_${l}`] });
      cutRows(spec, `flat_${kv}_${l}`, 1, `${kv}_%_${l}`, slots, (b) => [1, `N${b}`, H, D]);
    }
  }
  return spec;
}

/** A cut graph's inputs (`idx`; each slot's `starts_b`, `ends_b`) and constants (the flat shape, the cut axis). */
function cutSpec(name: string, slots: number, flat: number[], axis: number): GraphSpec {
  const spec: GraphSpec = {
    name,
    inputs: [{ name: 'idx', type: DT.int64, dims: ['N'] }],
    outputs: [],
    nodes: [],
    initializers: [
      { name: 'flat', type: DT.int64, dims: [flat.length], data: i64(flat) },
      { name: 'axes', type: DT.int64, dims: [1], data: i64([axis]) },
    ],
  };
  for (let b = 0; b < slots; b++) spec.inputs.push({ name: `starts_${b}`, type: DT.int64, dims: [1] }, { name: `ends_${b}`, type: DT.int64, dims: [1] });
  return spec;
}

/** Gather `idx` from `flat` along `axis`, then one Slice per slot along it: outputs `out` with % = slot. */
function cutRows(spec: GraphSpec, flat: string, axis: number, out: string, slots: number, dims: (b: number) => (number | string)[]): void {
  spec.nodes.push({ op: 'Gather', inputs: [flat, 'idx'], outputs: [`rows_${flat}`], attrs: { axis } });
  for (let b = 0; b < slots; b++) {
    const name = out.replace('%', String(b));
    spec.outputs.push({ name, type: DT.float, dims: dims(b) });
    spec.nodes.push({ op: 'Slice', inputs: [`rows_${flat}`, `starts_${b}`, `ends_${b}`, 'axes'], outputs: [name] });
  }
}

/** A batch's new rows [B, T, H, D] -> stream b's first T_b rows [1, T_b, H, D] (every stream's past empty). */
export function splitGraph(g: KvGeometry, slots: number): GraphSpec {
  return cutGraph(g, `kv_split_${slots}`, slots, ['new']);
}

/**
 * After a batched step, each stream's whole rows in one run: for row b, its P_b rows of the packed past, then
 * its T_b new rows (which start at P), as [1, P_b + T_b, H, D] (cutGraph). Its store adopts them (a store that
 * was empty: its new rows), so a step costs three runs (pack, decoder, merge) whatever the batch, instead of one
 * more `kv_append` per stream. Slots past the batch (graphs come in sizes: batchGraphSize) take one row of row 0.
 */
export function mergeGraph(g: KvGeometry, slots: number): GraphSpec {
  return cutGraph(g, `kv_merge_${slots}`, slots, ['past', 'new']);
}

/**
 * The feeds of a cut (kv_merge, kv_split, kv_present) for a batch of streams (pasts P_b, new rows T_b) in a graph
 * of `slots`: `idx` into the flat B * (P + T) rows, each stream's past rows then its new rows, and each slot's
 * run of them (`starts_b`, `ends_b`; spare slots: one row of row 0).
 */
export function cutInputs(pastLengths: readonly number[], newLengths: readonly number[], pastRows: number, newRows: number, slots: number): Record<string, ort.Tensor> {
  const width = pastRows + newRows;
  const sizes = Array.from({ length: slots }, (_, b) => (b < pastLengths.length ? pastLengths[b] + newLengths[b] : 1));
  const idx = new BigInt64Array(sizes.reduce((a, n) => a + n, 0)); // spare slots' rows: idx 0 (zeros at the end)
  let at = 0;
  pastLengths.forEach((p, b) => {
    for (let j = 0; j < p; j++) idx[at++] = BigInt(b * width + j);
    for (let j = 0; j < newLengths[b]; j++) idx[at++] = BigInt(b * width + pastRows + j);
  });
  const feeds: Record<string, ort.Tensor> = { idx: new ort.Tensor('int64', idx, [idx.length]) };
  let offset = 0;
  sizes.forEach((n, b) => {
    feeds[`starts_${b}`] = new ort.Tensor('int64', BigInt64Array.of(BigInt(offset)), [1]);
    feeds[`ends_${b}`] = new ort.Tensor('int64', BigInt64Array.of(BigInt(offset + n)), [1]);
    offset += n;
  });
  return feeds;
}

/**
 * The size of the kv_pack / kv_merge graph a batch of `batch` streams runs on: the next power of two. Making a
 * session costs up to a second on WebGPU (measured on the H200), so a few sizes made at start-up, not one per
 * batch size met while streams wait; the spare slots take a one-row filler (kv_pack) or one row of row 0 (the cuts:
 * kv_merge, kv_split, kv_present).
 */
export function batchGraphSize(batch: number): number {
  return Math.max(2, 2 ** Math.ceil(Math.log2(batch)));
}

/** Whether outputs of sessions on this provider can stay in device memory. */
export const keepsOutputsOnDevice = (provider: string): boolean => provider === 'webgpu';

/** A store's rows as kv_pack takes them: per layer its key and value tensors, or null for an empty store. */
export type PastRows = { keys: ort.Tensor[]; values: ort.Tensor[] } | null;

/** The three cache graphs as sessions on one provider; shared by every stream of a backend. */
export class CacheGraphs {
  private readonly batchGraphs = new Map<string, Promise<GuardedSession>>();
  /** kv_pack's parts for an empty store, and for the spare slots of a graph larger than the batch. */
  private readonly fillerPart: ort.Tensor;

  private constructor(
    readonly geometry: KvGeometry,
    readonly provider: string,
    readonly append: GuardedSession,
    readonly gather: GuardedSession,
    readonly read: GuardedSession,
    private readonly deviceOptions: ort.InferenceSession.SessionOptions,
    readonly layout: KvLayout,
  ) {
    const { numKvHeads: H, headDim: D } = geometry;
    this.fillerPart = new ort.Tensor('float32', new Float32Array(H * D), layout === 'seq-major' ? [1, 1, H, D] : [1, H, 1, D]);
  }

  /**
   * kv_pack: the streams' rows as one padded past per layer, [B, P, H, D] (seq-major) or [B, H, P, D]
   * (head-major), P = pastRows; a stream's padding rows are copies of row 0, which the decoder's mask hides.
   * The tensors returned are the caller's (own()ed: release them after the decoder call).
   */
  async packPasts(pasts: readonly PastRows[], lengths: readonly number[], pastRows: number): Promise<{ keys: ort.Tensor[]; values: ort.Tensor[] }> {
    const { numLayers: L, numKvHeads: H, headDim: D } = this.geometry;
    const batch = pasts.length;
    const slots = batchGraphSize(batch);
    const idx = new BigInt64Array(batch * pastRows);
    const shape = this.layout === 'seq-major' ? [batch, pastRows, H, D] : [H, batch, pastRows, D];
    const feeds: Record<string, ort.Tensor> = { idx: new ort.Tensor('int64', idx, [idx.length]), shape: new ort.Tensor('int64', i64(shape), [4]) };
    // A stream without rows (and a spare slot) gives the Concat one filler row, never an empty input: the WebGPU
    // provider's Concat fails when a group of its inputs is all empty ("number of element of uniform variable must
    // be greater than 0", seen with 32 slots, onnxruntime 1.30). idx skips the filler rows.
    let offset = 0;
    for (let b = 0; b < slots; b++) {
      const past = b < batch && lengths[b] > 0 ? pasts[b] : null;
      if (past) {
        for (let j = 0; j < lengths[b]; j++) idx[b * pastRows + j] = BigInt(offset + j);
        offset += lengths[b];
      } else offset += 1;
      for (let l = 0; l < L; l++) {
        feeds[`key_${b}_${l}`] = past ? past.keys[l] : this.fillerPart;
        feeds[`value_${b}_${l}`] = past ? past.values[l] : this.fillerPart;
      }
    }
    const out = await runGuarded(await this.batchGraph('pack', slots), feeds);
    const take = (kind: string) => Array.from({ length: L }, (_, l) => own(out[`past_${kind}_${l}`]));
    return { keys: take('key'), values: take('value') };
  }

  /** kv_pack / kv_split / kv_merge (kv_present, head-major) for a batch of `batch` streams, made on first use and kept. */
  batchGraph(kind: 'pack' | 'split' | 'merge' | 'present', batch: number): Promise<GuardedSession> {
    const key = `${kind}${batch}`;
    let session = this.batchGraphs.get(key);
    if (!session) {
      const spec = kind === 'pack' ? packGraph(this.geometry, batch, this.layout) : { split: splitGraph, merge: mergeGraph, present: presentGraph }[kind](this.geometry, batch);
      session = ort.InferenceSession.create(buildModel(spec), this.deviceOptions).then((s) => ({ name: spec.name, provider: this.provider, session: s }));
      this.batchGraphs.set(key, session);
    }
    return session;
  }

  static async create(geometry: KvGeometry, provider: string, intraOpThreads = 1, layout: KvLayout = 'seq-major'): Promise<CacheGraphs> {
    const base: ort.InferenceSession.SessionOptions = { ...providerOptions(provider), intraOpNumThreads: intraOpThreads, interOpNumThreads: 1, enableMemPattern: memoryPatterns(provider) };
    const device: ort.InferenceSession.SessionOptions = keepsOutputsOnDevice(provider) ? { ...base, preferredOutputLocation: 'gpu-buffer' } : base;
    const open = async (spec: GraphSpec, o: ort.InferenceSession.SessionOptions): Promise<GuardedSession> => ({
      name: spec.name,
      provider,
      session: await ort.InferenceSession.create(buildModel(spec), o),
    });
    return new CacheGraphs(
      geometry,
      provider,
      await open(appendGraph(geometry), device), // unused head-major: the decoder's present is adopted whole
      await open(gatherGraph(geometry, layout), device),
      await open(readGraph(geometry, layout), base),
      device,
      layout,
    );
  }

  /** Copy per-layer key/value tensors (any location) to host arrays through kv_read. */
  async readToHost(keys: ort.Tensor[], values: ort.Tensor[]): Promise<{ keys: Float32Array[]; values: Float32Array[] }> {
    const feeds: Record<string, ort.Tensor> = {};
    keys.forEach((t, l) => (feeds[`key_${l}`] = t));
    values.forEach((t, l) => (feeds[`value_${l}`] = t));
    const out = await runGuarded(this.read, feeds);
    const pick = (kv: string): Float32Array[] => keys.map((_, l) => Float32Array.from(out[`out_${kv}_${l}`].data as Float32Array));
    return { keys: pick('key'), values: pick('value') };
  }

  async dispose(): Promise<void> {
    const batch = await Promise.all([...this.batchGraphs.values()].map((p) => p.catch(() => undefined)));
    await Promise.all([this.append, this.gather, this.read, ...batch].map((g) => g?.session.release()));
  }
}

type Op =
  | { kind: 'append'; keys: ort.Tensor[]; values: ort.Tensor[] }
  | { kind: 'adopt'; keys: ort.Tensor[]; values: ort.Tensor[] }
  | { kind: 'gather'; idx: BigInt64Array; rot: BigInt64Array; cos: Float32Array; sin: Float32Array; rows: number }
  | { kind: 'clear' };

/**
 * KvOps on ONNX graphs: the live rows are one tensor per layer and kind, [1, length, H, D], in the
 * provider's memory. Operations are queued in order and run by flush(), which the decoder step calls
 * before it feeds the rows as its past. Every tensor held is counted (device-tensors.ts) and disposed
 * as soon as a newer one replaces it.
 */
export class GraphKvOps implements KvOps {
  readonly name: string;
  private keys: ort.Tensor[] | null = null;
  private values: ort.Tensor[] | null = null;
  private queue: Op[] = [];
  private readonly half: number;
  private disposed = false;

  constructor(private readonly graphs: CacheGraphs) {
    this.name = `onnx:${graphs.provider}`;
    this.half = graphs.geometry.headDim / 2;
  }

  private tensorOf(rows: KvRows, tokens: number): ort.Tensor {
    const { numKvHeads: H, headDim: D } = this.graphs.geometry;
    const dims = this.graphs.layout === 'seq-major' ? [1, tokens, H, D] : [1, H, tokens, D];
    if (rows instanceof Float32Array) return own(new ort.Tensor('float32', rows.subarray(0, tokens * H * D), dims));
    return rows as ort.Tensor; // already owned by whoever produced it (the decoder step); ownership moves here
  }

  /**
   * New rows, appended (one `kv_append` run at the next flush), or tensors that already hold the live rows before
   * them too, adopted as they are: a head-major decoder's whole present [1, H, at + tokens, D], or a batched
   * step's `kv_merge` output [1, at + tokens, H, D]. Tensors say which by their row count; host rows by the layout.
   */
  append(keys: readonly KvRows[], values: readonly KvRows[], at: number, tokens: number): void {
    const given = keys[0] instanceof Float32Array ? undefined : keys[0].dims[rowAxis(this.graphs.layout)];
    const adopt = given === undefined ? this.graphs.layout === 'head-major' : given === at + tokens;
    if (given !== undefined && given !== tokens && !adopt) throw new RangeError(`KV graph ops: ${given} rows given, expected ${tokens} new or ${at + tokens} in all`);
    const rows = adopt ? at + tokens : tokens;
    const op = { keys: keys.map((k) => this.tensorOf(k, rows)), values: values.map((v) => this.tensorOf(v, rows)) };
    this.queue.push(adopt ? { kind: 'adopt', ...op } : { kind: 'append', ...op });
  }

  remove(start: number, end: number, length: number, rot: RowRotation): void {
    const kept = length - (end - start);
    const idx = new BigInt64Array(kept);
    const which = new BigInt64Array(kept);
    for (let i = 0; i < start; i++) idx[i] = BigInt(i);
    for (let i = start; i < kept; i++) {
      idx[i] = BigInt(i + end - start);
      which[i] = 1n;
    }
    const cos = new Float32Array(2 * this.half).fill(1, 0, this.half);
    const sin = new Float32Array(2 * this.half);
    cos.set(rot.cos, this.half);
    sin.set(rot.sin, this.half);
    this.queue.push({ kind: 'gather', idx, rot: which, cos, sin, rows: 2 });
  }

  truncate(length: number): void {
    if (length === 0) {
      this.queue.push({ kind: 'clear' });
      return;
    }
    const idx = BigInt64Array.from({ length }, (_, i) => BigInt(i));
    this.queue.push({ kind: 'gather', idx, rot: new BigInt64Array(length), cos: new Float32Array(this.half).fill(1), sin: new Float32Array(this.half), rows: 1 });
  }

  /** The live rows as the decoder's past (after flush); null when there are none. */
  past(): { keys: ort.Tensor[]; values: ort.Tensor[] } | null {
    if (this.queue.length > 0) throw new Error('KV graph ops: past() before flush()');
    return this.keys && this.values ? { keys: this.keys, values: this.values } : null;
  }

  async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const op = this.queue.shift()!;
      try {
        await this.apply(op);
      } catch (err) {
        if (op.kind === 'append' || op.kind === 'adopt') [...op.keys, ...op.values].forEach(release);
        throw err;
      }
    }
  }

  private replace(keys: ort.Tensor[] | null, values: ort.Tensor[] | null): void {
    this.keys?.forEach(release);
    this.values?.forEach(release);
    this.keys = keys;
    this.values = values;
  }

  private async apply(op: Op): Promise<void> {
    const L = this.graphs.geometry.numLayers;
    if (op.kind === 'clear') return this.replace(null, null);
    if (op.kind === 'adopt') return this.replace(op.keys, op.values);
    if (op.kind === 'append') {
      if (!this.keys || !this.values) return this.replace(op.keys, op.values);
      const feeds: Record<string, ort.Tensor> = {};
      for (let l = 0; l < L; l++) {
        feeds[`past_key_${l}`] = this.keys[l];
        feeds[`past_value_${l}`] = this.values[l];
        feeds[`new_key_${l}`] = op.keys[l];
        feeds[`new_value_${l}`] = op.values[l];
      }
      const out = await runGuarded(this.graphs.append, feeds);
      [...op.keys, ...op.values].forEach(release);
      return this.replace(
        Array.from({ length: L }, (_, l) => own(out[`out_key_${l}`])),
        Array.from({ length: L }, (_, l) => own(out[`out_value_${l}`])),
      );
    }
    if (op.idx.length === 0 || !this.keys || !this.values) return this.replace(null, null);
    const n = op.idx.length;
    const feeds: Record<string, ort.Tensor> = {
      idx: new ort.Tensor('int64', op.idx, [n]),
      rot: new ort.Tensor('int64', op.rot, [n]),
      cos: new ort.Tensor('float32', op.cos, [op.rows, this.half]),
      sin: new ort.Tensor('float32', op.sin, [op.rows, this.half]),
    };
    for (let l = 0; l < L; l++) {
      feeds[`key_${l}`] = this.keys[l];
      feeds[`value_${l}`] = this.values[l];
    }
    const out = await runGuarded(this.graphs.gather, feeds);
    this.replace(
      Array.from({ length: L }, (_, l) => own(out[`out_key_${l}`])),
      Array.from({ length: L }, (_, l) => own(out[`out_value_${l}`])),
    );
  }

  async read(length: number): Promise<{ keys: Float32Array[]; values: Float32Array[] }> {
    const L = this.graphs.geometry.numLayers;
    if (length === 0 || !this.keys || !this.values) {
      return { keys: Array.from({ length: L }, () => new Float32Array(0)), values: Array.from({ length: L }, () => new Float32Array(0)) };
    }
    const rows = await this.graphs.readToHost(this.keys, this.values);
    if (this.graphs.layout === 'seq-major') return rows;
    const { numKvHeads: H, headDim: D } = this.graphs.geometry;
    return { keys: rows.keys.map((k) => headToSeqMajor(k, H, length, D)), values: rows.values.map((v) => headToSeqMajor(v, H, length, D)) };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const op of this.queue) if (op.kind === 'append' || op.kind === 'adopt') [...op.keys, ...op.values].forEach(release);
    this.queue = [];
    this.replace(null, null);
  }
}
