/**
 * Fills the external weight files of ONNX graphs saved with their weights outside (`X.onnx` + `X.onnx.data`,
 * as `train/byo/make_vlm_fixtures.py --real-size` writes them) with random values, so a real-size graph
 * structure (~1 MB) can travel without its ~1 GB of weights and be timed anywhere. Random weights cost what
 * trained ones cost; the outputs mean nothing. Values: uniform in [-0.05, 0.05) from a fixed-seed generator.
 *
 *   npx tsx scripts/fill-random-weights.ts DIR/onnx/*.onnx
 */
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/** Bytes each external file must hold: the end of its last tensor. */
function externalFiles(graphPath: string): Map<string, number> {
  const model = onnx.ModelProto.decode(readFileSync(graphPath));
  const ends = new Map<string, number>();
  for (const t of model.graph?.initializer ?? []) {
    if (t.dataLocation !== onnx.TensorProto.DataLocation.EXTERNAL) continue;
    const entry = Object.fromEntries((t.externalData ?? []).map((e) => [e.key, e.value]));
    const file = join(dirname(graphPath), String(entry.location));
    const end = Number(entry.offset ?? 0) + Number(entry.length);
    ends.set(file, Math.max(ends.get(file) ?? 0, end));
  }
  return ends;
}

function fill(path: string, bytes: number, seed: number): void {
  const fd = openSync(path, 'w');
  const chunk = new Float32Array(1 << 20);
  let s = seed >>> 0;
  for (let written = 0; written < bytes; ) {
    for (let i = 0; i < chunk.length; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      chunk[i] = (s / 4294967296 - 0.5) * 0.1;
    }
    const n = Math.min(bytes - written, chunk.byteLength);
    writeSync(fd, new Uint8Array(chunk.buffer, 0, n));
    written += n;
  }
  closeSync(fd);
}

const graphs = process.argv.slice(2);
if (graphs.length === 0) {
  console.error('usage: fill-random-weights.ts GRAPH.onnx ...');
  process.exit(2);
}
let seed = 1;
for (const graph of graphs) {
  for (const [file, bytes] of externalFiles(graph)) {
    fill(file, bytes, seed++);
    console.log(`${file}: ${bytes} bytes of random weights`);
  }
}
