/**
 * A minimal ONNX model writer: enough protobuf (wire format) to build small graphs of standard ops at
 * runtime, so the KV-cache operations run as ONNX graphs on the same execution provider as the decoder
 * (GPU buffers never leave the GPU). Field numbers are those of onnx/onnx.proto (IR version 8).
 * Written here rather than pulling protobufjs + onnx-proto in: the handful of messages below is all we
 * write, and onnxruntime itself checks every model we build when the session loads it.
 */

/** Protobuf wire writer: varints, length-delimited fields, nested messages. */
class Pb {
  private readonly chunks: Uint8Array[] = [];
  private size = 0;

  private push(b: Uint8Array): void {
    this.chunks.push(b);
    this.size += b.length;
  }

  private varint(v: bigint | number): void {
    let x = BigInt.asUintN(64, BigInt(v));
    const out: number[] = [];
    while (x >= 0x80n) {
      out.push(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    out.push(Number(x));
    this.push(Uint8Array.from(out));
  }

  private tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  int(field: number, v: number | bigint): this {
    this.tag(field, 0);
    this.varint(v);
    return this;
  }

  bytes(field: number, b: Uint8Array): this {
    this.tag(field, 2);
    this.varint(b.length);
    this.push(b);
    return this;
  }

  str(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }

  msg(field: number, m: Pb): this {
    return this.bytes(field, m.finish());
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}

/** ONNX TensorProto.DataType values used here. */
export const DT = { float: 1, int64: 7 } as const;
export type ElemType = (typeof DT)[keyof typeof DT];

/** A dimension: a fixed size or a symbolic name (dynamic). */
export type Dim = number | string;

export interface ValueInfo {
  name: string;
  type: ElemType;
  dims: Dim[];
}

export type AttrValue = number | number[] | string;

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  /** Integers (INT / INTS) and strings. */
  attrs?: Record<string, AttrValue>;
}

export interface Initializer {
  name: string;
  type: ElemType;
  dims: number[];
  data: BigInt64Array | Float32Array;
}

export interface GraphSpec {
  name: string;
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  nodes: NodeSpec[];
  initializers?: Initializer[];
  opset?: number;
}

function valueInfo(v: ValueInfo): Pb {
  const shape = new Pb();
  for (const d of v.dims) shape.msg(1, typeof d === 'number' ? new Pb().int(1, d) : new Pb().str(2, d));
  const tensorType = new Pb().int(1, v.type).msg(2, shape);
  return new Pb().str(1, v.name).msg(2, new Pb().msg(1, tensorType));
}

function attribute(name: string, v: AttrValue): Pb {
  const a = new Pb().str(1, name);
  if (typeof v === 'string') return a.bytes(4, new TextEncoder().encode(v)).int(20, 3);
  if (Array.isArray(v)) {
    for (const x of v) a.int(8, x);
    return a.int(20, 7);
  }
  // Float attributes are not needed by the cache graphs: refuse them rather than write them wrongly.
  if (!Number.isInteger(v)) throw new Error(`attribute ${name}: float attributes are not supported by this writer`);
  return a.int(3, v).int(20, 2);
}

function tensor(t: Initializer): Pb {
  const p = new Pb();
  for (const d of t.dims) p.int(1, d);
  p.int(2, t.type).str(8, t.name);
  return p.bytes(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
}

/** Serialize a graph to an ONNX ModelProto (bytes for InferenceSession.create). */
export function buildModel(g: GraphSpec): Uint8Array {
  const graph = new Pb();
  g.nodes.forEach((n, i) => {
    const node = new Pb();
    for (const x of n.inputs) node.str(1, x);
    for (const x of n.outputs) node.str(2, x);
    node.str(3, `${n.op.toLowerCase()}_${i}`).str(4, n.op);
    for (const [k, v] of Object.entries(n.attrs ?? {})) node.msg(5, attribute(k, v));
    graph.msg(1, node);
  });
  graph.str(2, g.name);
  for (const t of g.initializers ?? []) graph.msg(5, tensor(t));
  for (const v of g.inputs) graph.msg(11, valueInfo(v));
  for (const v of g.outputs) graph.msg(12, valueInfo(v));
  return new Pb()
    .int(1, 8) // ir_version
    .str(2, 'sightline')
    .msg(7, graph)
    .msg(8, new Pb().str(1, '').int(2, g.opset ?? 17))
    .finish();
}
