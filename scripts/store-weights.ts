/**
 * Stores an ONNX graph's large float32 weights compactly while the graph still computes in float32:
 * - float16 (default): each weight as float16 followed by a Cast back to float32 (half the bytes; each
 *   weight rounded to float16, relative error <= 2^-11);
 * - `--int8-matmul`: the right-hand weights of MatMul (2-D) as int8 with one scale per output column,
 *   followed by a DequantizeLinear (a quarter of the bytes); the other large weights as float16.
 * onnxruntime folds the Cast / DequantizeLinear of a constant into a float32 constant when the session
 * loads (for DequantizeLinear only with `session.disable_quant_qdq`, which src/model sets for such
 * folders), so speed and memory at run time are those of the float32 graph on every execution provider,
 * unlike dynamic int8 quantization, whose integer kernels the WebGPU provider does not run well.
 *
 *   npx tsx scripts/store-weights.ts IN.onnx OUT.onnx [--int8-matmul] [--min-elements 1024]
 *
 * Small tensors (norm scales, biases, shapes) stay float32: they save little and some feed shape logic.
 * Used for the shipped models' size budget (README, "Repository weight"; the model cards).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import onnxProto from 'onnx-proto';
import { toHalfBits } from './float16.js';

const { onnx } = onnxProto;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const FLOAT16 = onnx.TensorProto.DataType.FLOAT16;

function floatValues(t: onnxProto.onnx.ITensorProto): Float32Array {
  if (t.rawData && t.rawData.length > 0) {
    const copy = new Uint8Array(t.rawData); // aligned copy
    return new Float32Array(copy.buffer, 0, copy.length / 4);
  }
  return Float32Array.from(t.floatData ?? []);
}

/** Symmetric int8 per output column of a [K, N] matrix: q = round(w / scale[n]), scale[n] = max|w[:, n]| / 127. */
function quantizeColumns(values: Float32Array, rows: number, cols: number): { q: Int8Array; scales: Float32Array } {
  const scales = new Float32Array(cols);
  for (let i = 0; i < values.length; i++) scales[i % cols] = Math.max(scales[i % cols], Math.abs(values[i]));
  for (let c = 0; c < cols; c++) scales[c] = scales[c] > 0 ? scales[c] / 127 : 1;
  const q = new Int8Array(rows * cols);
  for (let i = 0; i < values.length; i++) q[i] = Math.max(-127, Math.min(127, Math.round(values[i] / scales[i % cols])));
  return { q, scales };
}

export function storeWeights(model: onnxProto.onnx.ModelProto, o: { minElements: number; int8MatMul: boolean }): { converted: number; bytesBefore: number; bytesAfter: number } {
  const graph = model.graph!;
  const matmulWeights = new Set((graph.node ?? []).filter((n) => n.opType === 'MatMul').map((n) => n.input![1]));
  const casts: onnxProto.onnx.INodeProto[] = [];
  const kept: onnxProto.onnx.ITensorProto[] = [];
  let converted = 0;
  let bytesBefore = 0;
  let bytesAfter = 0;
  for (const t of graph.initializer ?? []) {
    const count = (t.dims ?? []).reduce<number>((a, d) => a * Number(d), 1);
    if (t.dataType !== FLOAT || count < o.minElements || t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
      kept.push(t);
      continue;
    }
    const values = floatValues(t);
    if (o.int8MatMul && matmulWeights.has(t.name!) && t.dims?.length === 2) {
      const [rows, cols] = t.dims.map(Number);
      const { q, scales } = quantizeColumns(values, rows, cols);
      const [qName, sName, zName] = [`${t.name}__int8`, `${t.name}__scale`, `${t.name}__zero`];
      kept.push(onnx.TensorProto.create({ name: qName, dims: t.dims, dataType: onnx.TensorProto.DataType.INT8, rawData: new Uint8Array(q.buffer) }));
      kept.push(onnx.TensorProto.create({ name: sName, dims: [cols], dataType: FLOAT, rawData: new Uint8Array(scales.buffer) }));
      kept.push(onnx.TensorProto.create({ name: zName, dims: [cols], dataType: onnx.TensorProto.DataType.INT8, rawData: new Uint8Array(cols) }));
      casts.push(onnx.NodeProto.create({ name: `${t.name}__dequantize`, opType: 'DequantizeLinear', input: [qName, sName, zName], output: [t.name!], attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 1 }] }));
      converted++;
      bytesBefore += values.length * 4;
      bytesAfter += values.length + cols * 5;
      continue;
    }
    const half = new Uint16Array(values.length);
    for (let i = 0; i < values.length; i++) half[i] = toHalfBits(values[i]);
    const name = `${t.name}__fp16`;
    kept.push(onnx.TensorProto.create({ name, dims: t.dims, dataType: FLOAT16, rawData: new Uint8Array(half.buffer) }));
    casts.push(onnx.NodeProto.create({ name: `${t.name}__to_fp32`, opType: 'Cast', input: [name], output: [t.name!], attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: FLOAT }] }));
    converted++;
    bytesBefore += values.length * 4;
    bytesAfter += values.length * 2;
  }
  graph.initializer = kept;
  // Casts first: every consumer of a weight comes after the node that now produces it (topological order)
  graph.node = [...casts, ...(graph.node ?? [])];
  return { converted, bytesBefore, bytesAfter };
}

function main(): void {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { 'min-elements': { type: 'string', default: '1024' }, 'int8-matmul': { type: 'boolean', default: false } },
  });
  const [input, output] = positionals;
  if (!input || !output) throw new Error('usage: store-weights.ts IN.onnx OUT.onnx [--int8-matmul] [--min-elements N]');
  const model = onnx.ModelProto.decode(readFileSync(input));
  const r = storeWeights(model, { minElements: Number(values['min-elements']), int8MatMul: values['int8-matmul']! });
  writeFileSync(output, onnx.ModelProto.encode(model).finish());
  console.log(`${input}: ${r.converted} weights stored compactly (${r.bytesBefore} -> ${r.bytesAfter} B of weights) -> ${output}`);
}

if (import.meta.url === `file://${process.argv[1]}`) main();
