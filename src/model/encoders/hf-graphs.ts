/**
 * The graphs of a Hugging Face CLIP/SigLIP folder behind one small interface (DualGraphs), whether they are
 * two towers or one model.onnx:
 *
 *   towers     vision_model.onnx  pixel_values [N, 3, H, W] -> image_embeds (SigLIP exports: pooler_output)
 *              text_model.onnx    input_ids [B, T] (+ attention_mask) -> text_embeds (SigLIP: pooler_output)
 *   combined   model.onnx         input_ids, pixel_values (+ attention_mask) -> text_embeds, image_embeds
 *                                 (L2-normed), logits_per_text [B, N], logits_per_image
 *
 * A combined graph needs both inputs on every call (onnxruntime runs the whole graph whatever is fetched):
 * the tower not asked for gets an empty batch (0 rows: no work) and, if the graph refuses that, one dummy row
 * (a zero image or a one-token text), remembered per direction. Every input a graph has must be one we feed,
 * with the element type we feed; anything else is one `model_invalid` line naming the file and the input.
 */
import { relative } from 'node:path';
import * as ort from 'onnxruntime-node';
import { SightlineError } from '../../errors.js';
import { runGuarded, type GuardedSession } from '../device-tensors.js';
import type { EncoderSpec } from '../encoder-folder.js';
import { openSession } from '../onnx-session.js';
import { ENCODER_SESSION_OPTIONS } from './io.js';

export interface DualGraphs {
  /** Raw image vectors (as the graph gives them) of `n` frames' pixel values [n, 3, H, W]. */
  images(pixels: Float32Array, n: number): Promise<Float32Array[]>;
  /** Raw text vectors of equal-length id rows; `mask` (1 = token, 0 = padding) goes in where the graph takes it. */
  texts(ids: number[][], mask: number[][]): Promise<Float32Array[]>;
  /** model.onnx only: logits_per_text [rows x 1] with the L2-normed text and image vectors, for one image. */
  logits?(ids: number[][], mask: number[][], pixels: Float32Array): Promise<{ logits: Float32Array; texts: Float32Array[]; image: Float32Array } | undefined>;
  /** model.onnx only, for reports and tests: what the idle tower gets, the text tower during image calls and the image tower during text calls. */
  idleFeed?(): { idleText: IdleFeed; idleImage: IdleFeed };
  release(): Promise<void>;
}

type IntType = 'int64' | 'int32';
type IdleFeed = 'empty batch' | 'one dummy row';

/** onnxruntime run option: log fatal errors only. */
const QUIET: ort.InferenceSession.RunOptions = { logSeverityLevel: 4 };

interface Graph {
  g: GuardedSession;
  file: string;
  types: Map<string, string>;
  /** Input shapes as the graph declares them (numbers fixed, strings symbolic). */
  shapes: Map<string, readonly (number | string)[]>;
}

const bad = (spec: EncoderSpec, what: string): SightlineError => new SightlineError('model_invalid', `encoder folder ${spec.dir}: ${what}`);

async function open(spec: EncoderSpec, path: string, intraOpThreads: number): Promise<Graph> {
  const g = await openSession(`encoder folder ${spec.dir}`, path, { provider: 'cpu', intraOpThreads }, ENCODER_SESSION_OPTIONS);
  const types = new Map<string, string>();
  const shapes = new Map<string, readonly (number | string)[]>();
  for (const m of g.session.inputMetadata ?? []) {
    types.set(m.name, m.isTensor ? m.type : 'non-tensor');
    if (m.isTensor) shapes.set(m.name, m.shape);
  }
  for (const name of g.session.inputNames) if (!types.has(name)) types.set(name, 'unknown');
  return { g, file: relative(spec.dir, path), types, shapes };
}

/**
 * Checks a graph's inputs against what we feed (`required` must be there, `optional` may be, nothing else)
 * and their element types; returns the integer type of the id inputs.
 */
function checkInputs(spec: EncoderSpec, graph: Graph, required: string[], optional: string[]): IntType {
  const fed = [...required, ...optional];
  for (const name of required) {
    if (!graph.types.has(name)) throw bad(spec, `${graph.file} lacks input ${name} (its inputs: ${[...graph.types.keys()].join(', ')})`);
  }
  for (const [name, type] of graph.types) {
    if (!fed.includes(name)) throw bad(spec, `${graph.file} has input ${name}, which Sightline does not feed (it feeds ${fed.join(', ')})`);
    if (name === 'pixel_values' && type !== 'float32' && type !== 'unknown') {
      throw bad(spec, `${graph.file} takes pixel_values as ${type}; Sightline feeds float32 (use the plain or a quantized variant)`);
    }
    if (name !== 'pixel_values' && type !== 'int64' && type !== 'int32' && type !== 'unknown') {
      throw bad(spec, `${graph.file} takes ${name} as ${type}; Sightline feeds int64 or int32 token ids`);
    }
  }
  // A graph with a fixed image size must take the size the preprocessor config gives.
  const [, c, h, w] = graph.shapes.get('pixel_values') ?? [];
  const fixed = (d: unknown, want: number) => typeof d !== 'number' || d <= 0 || d === want;
  if (!fixed(c, 3) || !fixed(h, spec.imageHeight) || !fixed(w, spec.imageWidth)) {
    throw bad(spec, `${graph.file} takes pixel_values [${graph.shapes.get('pixel_values')!.join(', ')}], but the preprocessor config gives 3 x ${spec.imageHeight} x ${spec.imageWidth}`);
  }
  const idType = graph.types.get('input_ids');
  return idType === 'int32' ? 'int32' : 'int64';
}

/** The first of `names` the graph outputs; one error naming the file otherwise. */
function outputOf(spec: EncoderSpec, graph: Graph, names: string[]): string {
  const name = names.find((n) => graph.g.session.outputNames.includes(n));
  if (!name) throw bad(spec, `${graph.file} lacks output ${names.join(' or ')} (its outputs: ${graph.g.session.outputNames.join(', ')})`);
  return name;
}

function intTensor(type: IntType, rows: number[][], width = rows[0]?.length ?? 0): ort.Tensor {
  const flat = rows.flat();
  const data = type === 'int64' ? BigInt64Array.from(flat, (v) => BigInt(v)) : Int32Array.from(flat);
  return new ort.Tensor(type, data, [rows.length, width]);
}

/** [rows x dim] output -> one Float32Array per row; an output that is not one vector per row is refused. */
function rowsOf(spec: EncoderSpec, graph: Graph, r: ort.InferenceSession.ReturnType, name: string, rows: number): Float32Array[] {
  const t = r[name];
  if (t.dims.length !== 2 || t.dims[0] !== rows) throw bad(spec, `${graph.file} output ${name} has shape [${t.dims.join(', ')}], expected [${rows}, dim]`);
  const data = t.data as Float32Array;
  const dim = t.dims[1];
  return Array.from({ length: rows }, (_, i) => data.slice(i * dim, (i + 1) * dim));
}

export async function openDualGraphs(spec: EncoderSpec, intraOpThreads: number): Promise<DualGraphs> {
  const siglip = spec.layout === 'siglip';
  return spec.graphs === 'combined' ? openCombined(spec, intraOpThreads) : openTowers(spec, intraOpThreads, siglip);
}

async function openTowers(spec: EncoderSpec, intraOpThreads: number, siglip: boolean): Promise<DualGraphs> {
  const vision = await open(spec, spec.videoPath, intraOpThreads);
  const text = await open(spec, spec.textPath, intraOpThreads).catch(async (err: unknown) => {
    await vision.g.session.release();
    throw err;
  });
  try {
    checkInputs(spec, vision, ['pixel_values'], []);
    const idType = checkInputs(spec, text, ['input_ids'], ['attention_mask']);
    const imageOut = outputOf(spec, vision, siglip ? ['image_embeds', 'pooler_output'] : ['image_embeds']);
    const textOut = outputOf(spec, text, siglip ? ['text_embeds', 'pooler_output'] : ['text_embeds']);
    const textMask = text.types.has('attention_mask');
    const maskType: IntType = text.types.get('attention_mask') === 'int32' ? 'int32' : 'int64';
    const { imageWidth: w, imageHeight: h } = spec;
    return {
      async images(pixels, n) {
        const r = await runGuarded(vision.g, { pixel_values: new ort.Tensor('float32', pixels, [n, 3, h, w]) });
        return rowsOf(spec, vision, r, imageOut, n);
      },
      async texts(ids, mask) {
        const feeds: Record<string, ort.Tensor> = { input_ids: intTensor(idType, ids) };
        if (textMask) feeds.attention_mask = intTensor(maskType, mask);
        const r = await runGuarded(text.g, feeds);
        return rowsOf(spec, text, r, textOut, ids.length);
      },
      async release() {
        await Promise.all([vision.g.session.release(), text.g.session.release()]);
      },
    };
  } catch (err) {
    await Promise.all([vision.g.session.release(), text.g.session.release()]);
    throw err;
  }
}

async function openCombined(spec: EncoderSpec, intraOpThreads: number): Promise<DualGraphs> {
  const graph = await open(spec, spec.videoPath, intraOpThreads);
  try {
    const idType = checkInputs(spec, graph, ['input_ids', 'pixel_values'], ['attention_mask']);
    const maskType: IntType = graph.types.get('attention_mask') === 'int32' ? 'int32' : 'int64';
    const imageOut = outputOf(spec, graph, ['image_embeds']);
    const textOut = outputOf(spec, graph, ['text_embeds']);
    const logitsOut = graph.g.session.outputNames.includes('logits_per_text') ? 'logits_per_text' : undefined;
    const hasMask = graph.types.has('attention_mask');
    const { imageWidth: w, imageHeight: h } = spec;
    const pixelsOf = (data: Float32Array, n: number) => new ort.Tensor('float32', data, [n, 3, h, w]);
    const textFeeds = (ids: number[][], mask: number[][], width?: number): Record<string, ort.Tensor> => ({
      input_ids: intTensor(idType, ids, width),
      ...(hasMask ? { attention_mask: intTensor(maskType, mask, width) } : {}),
    });
    const dummyId = spec.padTo?.id ?? 0;
    /** Per direction: does the graph take an empty batch for the unused tower? Learnt on the first call. */
    const emptyOk = { image: true, text: true };

    async function run(direction: 'image' | 'text', feeds: (empty: boolean) => Record<string, ort.Tensor>) {
      if (emptyOk[direction]) {
        try {
          // Quiet: a graph that refuses the empty batch would log its failing node as an error.
          return await runGuarded(graph.g, feeds(true), QUIET);
        } catch {
          emptyOk[direction] = false;
        }
      }
      return runGuarded(graph.g, feeds(false));
    }

    return {
      async images(pixels, n) {
        // The text tower idles on an empty batch (or one one-token row).
        const r = await run('image', (empty) => ({ pixel_values: pixelsOf(pixels, n), ...(empty ? textFeeds([], [], 1) : textFeeds([[dummyId]], [[1]])) }));
        return rowsOf(spec, graph, r, imageOut, n);
      },
      async texts(ids, mask) {
        const r = await run('text', (empty) => ({ ...textFeeds(ids, mask), pixel_values: empty ? pixelsOf(new Float32Array(0), 0) : pixelsOf(new Float32Array(3 * w * h), 1) }));
        return rowsOf(spec, graph, r, textOut, ids.length);
      },
      async logits(ids, mask, pixels) {
        if (!logitsOut) return undefined;
        const r = await runGuarded(graph.g, { ...textFeeds(ids, mask), pixel_values: pixelsOf(pixels, 1) });
        const t = r[logitsOut];
        if (t.dims.length !== 2 || t.dims[0] !== ids.length || t.dims[1] !== 1) return undefined;
        return { logits: (t.data as Float32Array).slice(), texts: rowsOf(spec, graph, r, textOut, ids.length), image: rowsOf(spec, graph, r, imageOut, 1)[0] };
      },
      idleFeed: () => ({ idleText: emptyOk.image ? 'empty batch' : 'one dummy row', idleImage: emptyOk.text ? 'empty batch' : 'one dummy row' }),
      async release() {
        await graph.g.session.release();
      },
    };
  } catch (err) {
    await graph.g.session.release();
    throw err;
  }
}
