/**
 * A tiny SigLIP folder in the Hugging Face ONNX layout, written with onnx-proto (no Python here), with chosen
 * weights so that search is checkable (as clip-fixture.ts does for CLIP):
 *
 *   onnx/vision_model.onnx  pixel_values [N, 3, 32, 32] -> GlobalAveragePool -> MatMul W -> pooler_output [N, 8]
 *   onnx/text_model.onnx    input_ids [B, T] -> Gather E -> ReduceMean over T -> MatMul W -> pooler_output [B, 8]
 *                           (no attention_mask, as SigLIP: the pad token embeds as zero, so padding keeps the direction)
 *   onnx/model.onnx         input_ids, pixel_values -> logits_per_image, logits_per_text (SCALE * cos + BIAS),
 *                           text_embeds, image_embeds (L2-normed)
 *   tokenizer.json          WordLevel, lower-case, "$A </s>" (the end token SigLIP's tokenizer appends)
 *   tokenizer_config.json   model_max_length 64, pad_token "</s>" (id 1, as google/siglip-*)
 *   preprocessor_config.json  size 32x32 (stretch), rescale 1/255, mean/std 0.5
 *   sightline-scoring.json  {logit_scale: ln SCALE, logit_bias: BIAS}
 *
 * A frame embeds as its mean colour (r, g, b) in [-1, 1]; "red", "green", "blue" as the colour corners.
 * `combined: true` writes only model.onnx (no towers, no sidecar: the runtime reads scale and bias off its logits).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { wordTokenizerJson } from './clip-fixture.js';

const { onnx } = onnxProto;
const DIM = 8;
const SIZE = 32;
export const SIGLIP_FIXTURE = { scale: 7, bias: -2, maxLength: 64, padId: 1 } as const;
const WORDS = ['red', 'green', 'blue', 'the', 'a', 'video', 'pitch', 'of'];
const SPECIAL = ['<pad>', '</s>', '<unk>'];
const F = onnx.TensorProto.DataType.FLOAT;
const INT = onnx.AttributeProto.AttributeType.INT;
const INTS = onnx.AttributeProto.AttributeType.INTS;

const tensor = (name: string, dims: number[], values: number[]) => onnx.TensorProto.create({ name, dims, dataType: F, floatData: values });
const valueInfo = (name: string, elemType: number, shape: (number | string)[]) =>
  onnx.ValueInfoProto.create({
    name,
    type: { tensorType: { elemType, shape: { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  });

function model(graph: onnxProto.onnx.IGraphProto): Uint8Array {
  return onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 7, producerName: 'sightline-test', opsetImport: [{ domain: '', version: 13 }], graph })).finish();
}

function projection(): number[] {
  const w = new Array(3 * DIM).fill(0);
  for (let c = 0; c < 3; c++) w[c * DIM + c] = 1;
  return w;
}

function embeddingTable(): number[] {
  const corner: Record<string, number[]> = { red: [1, -1, -1], green: [-1, 1, -1], blue: [-1, -1, 1] };
  const table: number[] = [];
  let noise = 1;
  for (const word of [...SPECIAL, ...WORDS]) {
    noise = (noise * 48271) % 2147483647;
    table.push(...(corner[word] ?? (SPECIAL.includes(word) ? [0, 0, 0] : [0, 0, 0].map((_, i) => (((noise >> i) % 7) - 3) * 0.01))));
  }
  return table;
}

const visionNodes = (pixels: string, out: string) => [
  { opType: 'GlobalAveragePool', input: [pixels], output: ['v_pooled'] },
  { opType: 'Flatten', input: ['v_pooled'], output: ['v_flat'], attribute: [{ name: 'axis', type: INT, i: 1 }] },
  { opType: 'MatMul', input: ['v_flat', 'W'], output: [out] },
];

const textNodes = (ids: string, out: string) => [
  { opType: 'Gather', input: ['E', ids], output: ['t_tokens'], attribute: [{ name: 'axis', type: INT, i: 0 }] },
  { opType: 'ReduceMean', input: ['t_tokens'], output: ['t_mean'], attribute: [{ name: 'axes', type: INTS, ints: [1] }, { name: 'keepdims', type: INT, i: 0 }] },
  { opType: 'MatMul', input: ['t_mean', 'W'], output: [out] },
];

export function visionTower(output = 'pooler_output'): Uint8Array {
  return model({
    name: 'vision',
    input: [valueInfo('pixel_values', F, ['N', 3, SIZE, SIZE])],
    output: [valueInfo(output, F, ['N', DIM])],
    initializer: [tensor('W', [3, DIM], projection())],
    node: visionNodes('pixel_values', output),
  });
}

/** A vision tower taking float16 pixel values (as some _fp16 exports do), for the error test. */
export function visionTowerFp16(): Uint8Array {
  return model({
    name: 'vision_fp16',
    input: [valueInfo('pixel_values', onnx.TensorProto.DataType.FLOAT16, ['N', 3, SIZE, SIZE])],
    output: [valueInfo('pooler_output', F, ['N', DIM])],
    initializer: [tensor('W', [3, DIM], projection())],
    node: [{ opType: 'Cast', input: ['pixel_values'], output: ['pixels32'], attribute: [{ name: 'to', type: INT, i: F }] }, ...visionNodes('pixels32', 'pooler_output')],
  });
}

/** `extraInput`: a graph input Sightline does not feed (for the error test). */
export function textTower(output = 'pooler_output', extraInput?: string): Uint8Array {
  const vocab = SPECIAL.length + WORDS.length;
  return model({
    name: 'text',
    input: [valueInfo('input_ids', onnx.TensorProto.DataType.INT64, ['B', 'T']), ...(extraInput ? [valueInfo(extraInput, onnx.TensorProto.DataType.INT64, ['B', 'T'])] : [])],
    output: [valueInfo(output, F, ['B', DIM])],
    initializer: [tensor('E', [vocab, 3], embeddingTable()), tensor('W', [3, DIM], projection())],
    node: textNodes('input_ids', output),
  });
}

/** `refuseEmptyBatch`: an extra output whose Reshape [0, -1] fails on 0 images (as reshapes in real exports may), for the fallback test. */
export function combinedModel(o: { refuseEmptyBatch?: boolean } = {}): Uint8Array {
  const vocab = SPECIAL.length + WORDS.length;
  const refuse = o.refuseEmptyBatch
    ? {
        output: [valueInfo('image_flat', F, ['N', DIM])],
        init: [onnx.TensorProto.create({ name: 'flat_shape', dims: [2], dataType: onnx.TensorProto.DataType.INT64, int64Data: [0, -1] })],
        node: [{ opType: 'Reshape', input: ['image_raw', 'flat_shape'], output: ['image_flat'] }],
      }
    : { output: [], init: [], node: [] };
  return model({
    name: 'siglip',
    input: [valueInfo('input_ids', onnx.TensorProto.DataType.INT64, ['B', 'T']), valueInfo('pixel_values', F, ['N', 3, SIZE, SIZE])],
    output: [valueInfo('logits_per_image', F, ['N', 'B']), valueInfo('logits_per_text', F, ['B', 'N']), valueInfo('text_embeds', F, ['B', DIM]), valueInfo('image_embeds', F, ['N', DIM]), ...refuse.output],
    initializer: [
      tensor('E', [vocab, 3], embeddingTable()),
      tensor('W', [3, DIM], projection()),
      tensor('scale', [], [SIGLIP_FIXTURE.scale]),
      tensor('bias', [], [SIGLIP_FIXTURE.bias]),
      ...refuse.init,
    ],
    node: [
      ...visionNodes('pixel_values', 'image_raw'),
      ...textNodes('input_ids', 'text_raw'),
      { opType: 'LpNormalization', input: ['image_raw'], output: ['image_embeds'], attribute: [{ name: 'axis', type: INT, i: -1 }, { name: 'p', type: INT, i: 2 }] },
      { opType: 'LpNormalization', input: ['text_raw'], output: ['text_embeds'], attribute: [{ name: 'axis', type: INT, i: -1 }, { name: 'p', type: INT, i: 2 }] },
      { opType: 'Transpose', input: ['image_embeds'], output: ['image_t'], attribute: [{ name: 'perm', type: INTS, ints: [1, 0] }] },
      { opType: 'MatMul', input: ['text_embeds', 'image_t'], output: ['cos'] },
      { opType: 'Mul', input: ['cos', 'scale'], output: ['scaled'] },
      { opType: 'Add', input: ['scaled', 'bias'], output: ['logits_per_text'] },
      { opType: 'Transpose', input: ['logits_per_text'], output: ['logits_per_image'], attribute: [{ name: 'perm', type: INTS, ints: [1, 0] }] },
      ...refuse.node,
    ],
  });
}

export function siglipTokenizerJson(): object {
  return wordTokenizerJson(SPECIAL, WORDS, { after: '</s>' });
}

/** Writes the folder (towers + sidecar, or `combined`: model.onnx alone) and returns its path. */
export function writeSiglipFixture(dir: string, o: { combined?: boolean } = {}): string {
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  if (o.combined) writeFileSync(join(dir, 'onnx', 'model.onnx'), combinedModel());
  else {
    writeFileSync(join(dir, 'onnx', 'vision_model.onnx'), visionTower());
    writeFileSync(join(dir, 'onnx', 'text_model.onnx'), textTower());
    writeFileSync(join(dir, 'sightline-scoring.json'), JSON.stringify({ logit_scale: Math.log(SIGLIP_FIXTURE.scale), logit_bias: SIGLIP_FIXTURE.bias }));
  }
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(siglipTokenizerJson()));
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ model_max_length: SIGLIP_FIXTURE.maxLength, pad_token: '</s>', eos_token: '</s>', unk_token: '<unk>' }));
  writeFileSync(join(dir, 'preprocessor_config.json'), JSON.stringify({ do_resize: true, size: { height: SIZE, width: SIZE }, do_rescale: true, rescale_factor: 1 / 255, do_normalize: true, image_mean: [0.5, 0.5, 0.5], image_std: [0.5, 0.5, 0.5] }));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'siglip', _name_or_path: 'tiny-colour-siglip', text_config: { max_position_embeddings: 64 }, vision_config: { image_size: SIZE } }));
  return dir;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!) && process.argv[2]) {
  process.stdout.write(`${writeSiglipFixture(process.argv[2], { combined: process.argv[3] === '--combined' })}\n`);
}
