/**
 * Stores an ONNX graph's large float32 weights as float16, each followed by a Cast back to float32, so the
 * file is about half the size while the graph still computes in float32: onnxruntime folds the Casts into
 * float32 constants when the session loads (constant folding), so speed and memory at run time are as
 * before, and the only change is each weight rounded to float16 (relative error <= 2^-11).
 *
 *   npx tsx scripts/store-weights-fp16.ts IN.onnx OUT.onnx [--min-elements 1024]
 *
 * Small tensors (norm scales, biases, shapes) stay float32: they save little and some feed shape logic.
 * Used for the shipped models' size budget (docs/commentator-model.md, docs/retrieval-model.md).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const FLOAT16 = onnx.TensorProto.DataType.FLOAT16;

/** IEEE float32 -> float16 bits, round to nearest even (weights here are finite and well inside fp16 range). */
function toHalfBits(value: number): number {
  const f32 = new Float32Array([value]);
  const bits = new Uint32Array(f32.buffer)[0];
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  let mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow -> inf
  if (e <= 0) {
    if (e < -10) return sign; // underflow -> signed zero
    mant |= 0x800000; // subnormal: shift the implicit bit in
    const shift = 14 - e;
    const half = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    return sign | (half + (rest > mid || (rest === mid && (half & 1)) ? 1 : 0));
  }
  const half = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  // rounding may carry into the exponent, which is still the right encoding
  return sign | (half + (rest > 0x1000 || (rest === 0x1000 && (half & 1)) ? 1 : 0));
}

function floatValues(t: onnxProto.onnx.ITensorProto): Float32Array {
  if (t.rawData && t.rawData.length > 0) {
    const copy = new Uint8Array(t.rawData); // aligned copy
    return new Float32Array(copy.buffer, 0, copy.length / 4);
  }
  return Float32Array.from(t.floatData ?? []);
}

export function storeWeightsFp16(model: onnxProto.onnx.ModelProto, minElements: number): { converted: number; bytesBefore: number; bytesAfter: number } {
  const graph = model.graph!;
  const casts: onnxProto.onnx.INodeProto[] = [];
  const kept: onnxProto.onnx.ITensorProto[] = [];
  let converted = 0;
  let bytesBefore = 0;
  let bytesAfter = 0;
  for (const t of graph.initializer ?? []) {
    const count = (t.dims ?? []).reduce<number>((a, d) => a * Number(d), 1);
    if (t.dataType !== FLOAT || count < minElements || t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
      kept.push(t);
      continue;
    }
    const values = floatValues(t);
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
  const { positionals, values } = parseArgs({ allowPositionals: true, options: { 'min-elements': { type: 'string', default: '1024' } } });
  const [input, output] = positionals;
  if (!input || !output) throw new Error('usage: store-weights-fp16.ts IN.onnx OUT.onnx [--min-elements N]');
  const model = onnx.ModelProto.decode(readFileSync(input));
  const r = storeWeightsFp16(model, Number(values['min-elements']));
  writeFileSync(output, onnx.ModelProto.encode(model).finish());
  console.log(`${input}: ${r.converted} weights to float16 (${r.bytesBefore} -> ${r.bytesAfter} B of weights) -> ${output}`);
}

if (import.meta.url === `file://${process.argv[1]}`) main();
