/**
 * A tiny encoder folder in the common CLIP ONNX layout, written with onnx-proto (no Python onnx here):
 *
 *   vision_model.onnx  pixel_values [N, 3, 32, 32] -> GlobalAveragePool -> Flatten -> MatMul W -> image_embeds [N, 8]
 *   text_model.onnx    input_ids [1, T] -> Gather E -> ReduceMean over T -> MatMul W -> text_embeds [1, 8]
 *                      (no attention_mask input: the runtime must feed only what the graph has)
 *   tokenizer.json     WordLevel, lower-case, whitespace split, CLIP-style <|startoftext|> ... <|endoftext|> template
 *   preprocessor_config.json  crop_size 32, mean 0.5, std 0.5
 *
 * The weights are chosen, not trained, so that search is checkable: a frame's embedding is its mean
 * colour ((r, g, b) in [-1, 1] after normalisation) and the words "red", "green", "blue" embed as the
 * matching colour corners; every other word embeds near zero with a little random noise (seeded).
 * So the query "green" must rank a green video above red and blue ones.
 *
 *   npx tsx test/search/clip-fixture.ts <dir>     writes the folder
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
const DIM = 8;
const SIZE = 32;
const WORDS = ['red', 'green', 'blue', 'the', 'a', 'video', 'clip', 'of', 'match', 'pitch', 'football'];
const SPECIAL = ['<|startoftext|>', '<|endoftext|>', '<unk>'];

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
}

const tensor = (name: string, dims: number[], values: number[]) =>
  onnx.TensorProto.create({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, floatData: values });

const valueInfo = (name: string, elemType: number, shape: (number | string)[]) =>
  onnx.ValueInfoProto.create({
    name,
    type: { tensorType: { elemType, shape: { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  });

function model(graph: onnxProto.onnx.IGraphProto): Uint8Array {
  return onnx.ModelProto.encode(
    onnx.ModelProto.create({ irVersion: 7, producerName: 'sightline-test', opsetImport: [{ domain: '', version: 13 }], graph }),
  ).finish();
}

/** colour (r, g, b) -> [r, g, b, 0, 0, 0, 0, 0]: W is [3, DIM] with an identity block. */
function projection(): number[] {
  const w = new Array(3 * DIM).fill(0);
  for (let c = 0; c < 3; c++) w[c * DIM + c] = 1;
  return w;
}

export function visionModel(): Uint8Array {
  const F = onnx.TensorProto.DataType.FLOAT;
  return model({
    name: 'vision',
    input: [valueInfo('pixel_values', F, ['N', 3, SIZE, SIZE])],
    output: [valueInfo('image_embeds', F, ['N', DIM])],
    initializer: [tensor('W', [3, DIM], projection())],
    node: [
      { opType: 'GlobalAveragePool', input: ['pixel_values'], output: ['pooled'] },
      { opType: 'Flatten', input: ['pooled'], output: ['flat'], attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 1 }] },
      { opType: 'MatMul', input: ['flat', 'W'], output: ['image_embeds'] },
    ],
  });
}

export function textModel(): Uint8Array {
  const F = onnx.TensorProto.DataType.FLOAT;
  const vocab = [...SPECIAL, ...WORDS];
  const noise = rng(7);
  const corner: Record<string, number[]> = { red: [1, -1, -1], green: [-1, 1, -1], blue: [-1, -1, 1] };
  const table: number[] = [];
  for (const word of vocab) table.push(...(corner[word] ?? [0, 0, 0].map(() => 0.05 * noise())));
  return model({
    name: 'text',
    input: [valueInfo('input_ids', onnx.TensorProto.DataType.INT64, [1, 'T'])],
    output: [valueInfo('text_embeds', F, [1, DIM])],
    initializer: [tensor('E', [vocab.length, 3], table), tensor('W', [3, DIM], projection())],
    node: [
      { opType: 'Gather', input: ['E', 'input_ids'], output: ['tokens'], attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 0 }] },
      { opType: 'ReduceMean', input: ['tokens'], output: ['mean'], attribute: [{ name: 'axes', type: onnx.AttributeProto.AttributeType.INTS, ints: [1] }, { name: 'keepdims', type: onnx.AttributeProto.AttributeType.INT, i: 0 }] },
      { opType: 'MatMul', input: ['mean', 'W'], output: ['text_embeds'] },
    ],
  });
}

/**
 * A word-level tokenizer.json over `special` then `words` (ids in that order), lowercased, split on whitespace,
 * with `before`/`after` special tokens added around every text (CLIP: start and end of text; SigLIP: end only).
 */
export function wordTokenizerJson(special: readonly string[], words: readonly string[], around: { before?: string; after?: string }): object {
  const vocab: Record<string, number> = {};
  [...special, ...words].forEach((w, i) => (vocab[w] = i));
  const added = (id: number, content: string) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  const marks = [around.before, around.after].filter((t): t is string => t !== undefined);
  const mark = (t: string | undefined) => (t === undefined ? [] : [{ SpecialToken: { id: t, type_id: 0 } }]);
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: special.map((t, i) => added(i, t)),
    normalizer: { type: 'Lowercase' },
    pre_tokenizer: { type: 'Whitespace' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [...mark(around.before), { Sequence: { id: 'A', type_id: 0 } }, ...mark(around.after)],
      pair: [{ Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: Object.fromEntries(marks.map((t) => [t, { id: t, ids: [vocab[t]], tokens: [t] }])),
    },
    decoder: null,
    model: { type: 'WordLevel', vocab, unk_token: '<unk>' },
  };
}

export function tokenizerJson(): object {
  return wordTokenizerJson(SPECIAL, WORDS, { before: '<|startoftext|>', after: '<|endoftext|>' });
}

/** Writes the folder and returns its path. */
export function writeClipFixture(dir: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'vision_model.onnx'), visionModel());
  writeFileSync(join(dir, 'text_model.onnx'), textModel());
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tokenizerJson()));
  writeFileSync(join(dir, 'preprocessor_config.json'), JSON.stringify({ crop_size: SIZE, image_mean: [0.5, 0.5, 0.5], image_std: [0.5, 0.5, 0.5] }));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ _name_or_path: 'tiny-colour-clip', text_config: { max_position_embeddings: 16 } }));
  return dir;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!) && process.argv[2]) {
  process.stdout.write(`${writeClipFixture(process.argv[2])}\n`);
}
