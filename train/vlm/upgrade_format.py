"""Re-export a model folder's decoder with today's step graph (train/vlm/modeling.py; format 2: batch +
attention mask, docs/model-format.md) from the weights in its own decoder.onnx: no checkpoint and no
retraining needed, the function is unchanged. A format-1 folder becomes format 2; a format-2 folder gets the
current graph of the same format (fewer, larger ops: see Decoder.forward).

    python3 -m train.vlm.upgrade_format models/sightline-commentator-v5-int8 OUT_DIR

Reads every decoder weight out of the graph (float32, float16 + Cast, or int8 + DequantizeLinear storage;
separate or fused projections), loads them into the Decoder, exports the step graph in float32 and checks it
against the old graph with onnxruntime (rows within 1e-4, a padded batch of two streams included) and a
padded batch against its rows alone. Other files are copied; config.json gets formatVersion 2. Store the
weights compactly again with scripts/store-weights.ts (the model card gives the command).
"""
import argparse
import json
import os
import shutil

import numpy as np
import onnx
import torch
from onnx import numpy_helper

from .export import batched_diff, export_graph, ort_step, step_graph_io
from .modeling import Decoder


def constants(graph) -> dict:
    """Every tensor the graph computes from initializers alone through Cast / DequantizeLinear, as float32."""
    values = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant":
            values[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
        elif node.op_type == "Cast" and node.input[0] in values:
            values[node.output[0]] = values[node.input[0]].astype(np.float32)
        elif node.op_type == "DequantizeLinear" and node.input[0] in values:
            q, scale = values[node.input[0]].astype(np.float32), values[node.input[1]]
            zero = values[node.input[2]].astype(np.float32) if len(node.input) > 2 and node.input[2] else 0.0
            axis = next((a.i for a in node.attribute if a.name == "axis"), 1)
            shape = [1] * q.ndim
            if np.ndim(scale) == 1:
                shape[axis] = -1
            values[node.output[0]] = (q - np.reshape(zero, shape)) * np.reshape(scale, shape)
    return values


def load_weights(decoder: Decoder, graph) -> None:
    values = constants(graph)
    matmuls = [values[n.input[1]] for n in graph.node
               if n.op_type == "MatMul" and n.input[1] in values and values[n.input[1]].ndim == 2]
    layers = decoder.layers
    linears = [lin for layer in layers for lin in (layer.q, layer.k, layer.v, layer.o, layer.gate, layer.up, layer.down)]
    linears.append(decoder.lm_head)
    if len(matmuls) == 4 * len(layers) + 1:  # the fused step graph: qkv (q scaled), o, gate+up, down
        matmuls = [w for i in range(len(layers)) for w in unfuse(layers[i], matmuls[4 * i: 4 * i + 4])] + matmuls[-1:]
    if len(matmuls) != len(linears):
        raise SystemExit(f"decoder.onnx has {len(matmuls)} constant MatMul weights, the model {len(linears)}")
    with torch.no_grad():
        for lin, w in zip(linears, matmuls):
            if tuple(w.shape) != tuple(lin.weight.shape[::-1]):
                raise SystemExit(f"weight shapes differ: graph {w.shape}, module {tuple(lin.weight.shape)}")
            lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(w.T)))
        for name, p in decoder.named_parameters():
            if name.endswith("norm.weight") or ".ln" in name:
                p.copy_(torch.from_numpy(values[name].astype(np.float32)))


def unfuse(layer, fused: list) -> list:
    """A fused layer's [in, out] weights (DecoderLayer.step_weights' layout) back to q, k, v, o, gate, up, down."""
    qkv, o, gate_up, down = fused
    nq, nk, inter = layer.nh * layer.hd, layer.nkv * layer.hd, layer.gate.out_features
    scale = np.float32(1.0 / np.sqrt(layer.hd))
    return [qkv[:, :nq] / scale, qkv[:, nq: nq + nk], qkv[:, nq + nk:], o, gate_up[:, :inter], gate_up[:, inter:], down]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("src")
    ap.add_argument("dst")
    a = ap.parse_args()
    with open(os.path.join(a.src, "config.json")) as f:
        config = json.load(f)
    source_format = config.get("formatVersion", 1)
    if source_format not in (1, 2):
        raise SystemExit(f"{a.src}: formatVersion {source_format}, expected 1 or 2")
    c = config["decoder"]
    old_path = os.path.join(a.src, "decoder.onnx")
    decoder = Decoder(c, config["rope"]).eval()
    load_weights(decoder, onnx.load(old_path).graph)
    os.makedirs(a.dst, exist_ok=True)
    for name in os.listdir(a.src):
        if name not in ("decoder.onnx", "config.json"):
            shutil.copy(os.path.join(a.src, name), os.path.join(a.dst, name))
    L, kv, hd, d = c["numLayers"], c["numKvHeads"], c["headDim"], c["hiddenSize"]
    new_path = os.path.join(a.dst, "decoder.onnx")
    with torch.no_grad():
        inputs, outputs, axes, example = step_graph_io(L, kv, hd, d)
        export_graph(decoder, example, new_path, inputs, outputs, axes)

    import onnxruntime as ort

    options = ort.SessionOptions()
    options.add_session_config_entry("session.disable_quant_qdq", "1")
    old = ort.InferenceSession(old_path, options, providers=["CPUExecutionProvider"])
    new = ort.InferenceSession(new_path, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    embeds = (rng.standard_normal((1, 40, d)) * 0.05).astype(np.float32)
    past = [(rng.standard_normal((1, 300, kv, hd)) * 0.5).astype(np.float32) for _ in range(2 * L)]
    positions = np.arange(300, 340)[None].astype(np.int64)
    feeds = {"inputs_embeds": embeds, "position_ids": positions}
    for i in range(L):
        feeds[f"past_key_{i}"], feeds[f"past_value_{i}"] = past[2 * i], past[2 * i + 1]
    mask = np.ones((1, 340))
    ref = old.run(None, feeds) if source_format == 1 else ort_step(old, embeds, positions, mask, past)
    got = ort_step(new, embeds, positions, mask, past)
    d_old = max(float(np.abs(r - g).max()) for r, g in zip(ref, got))
    d_batch = batched_diff(new, embeds[0], embeds[0, :7], got)
    result = {"newVsOld": d_old, "batchVsRowsAlone": d_batch}
    if source_format == 2:  # the same padded batch through both graphs
        result["paddedBatchNewVsOld"] = padded_batch_diff(old, new, embeds[0], past)
    print(json.dumps(result))
    # 1e-4: the new graph reorders float arithmetic (scale folded into q, rotate_half as a gather, additive mask)
    if max(d_old, result.get("paddedBatchNewVsOld", 0.0)) > 1e-4 or d_batch > 1e-4:
        raise SystemExit("the new graph does not compute what the old one did")
    config["formatVersion"] = 2
    with open(os.path.join(a.dst, "config.json"), "w") as f:
        json.dump(config, f, indent=2)


def padded_batch_diff(old, new, embeds, past) -> float:
    """Two streams in one call, the second with a shorter past and fewer new rows (padding masked), through
    the old and the new graph: the largest difference over every output, padding rows included."""
    p, t = past[0].shape[1], 9
    rng = np.random.default_rng(1)
    batch_past = [np.concatenate([x, rng.standard_normal(x.shape).astype(np.float32)]) for x in past]
    mask = np.ones((2, p + t))
    mask[1, : p // 3] = 0
    mask[1, -2:] = 0
    e = np.stack([embeds[:t], embeds[t: 2 * t]])
    positions = np.stack([np.arange(p, p + t), np.arange(p - p // 3, p - p // 3 + t)])
    a, b = ort_step(old, e, positions, mask, batch_past), ort_step(new, e, positions, mask, batch_past)
    return max(float(np.abs(x - y).max()) for x, y in zip(a, b))


if __name__ == "__main__":
    main()
