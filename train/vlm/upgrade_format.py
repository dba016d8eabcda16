"""Re-export a format-1 model folder's decoder as format 2 (batch + attention mask, docs/model-format.md) from
the weights in its own decoder.onnx: no checkpoint and no retraining needed, the function is unchanged.

    python3 -m train.vlm.upgrade_format models/sightline-commentator-v5-int8 OUT_DIR

Reads every decoder weight out of the graph (float32, float16 + Cast, or int8 + DequantizeLinear storage),
loads them into train/vlm/modeling.py's Decoder, exports the format-2 step graph in float32 and checks it
against the old graph with onnxruntime (unbatched rows within 1e-5) and a padded batch against its rows
alone. Other files are copied; config.json gets formatVersion 2. Store the weights compactly again with
scripts/store-weights.ts (the model card gives the command).
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
    linears = [lin for layer in decoder.layers for lin in (layer.q, layer.k, layer.v, layer.o, layer.gate, layer.up, layer.down)]
    linears.append(decoder.lm_head)
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("src")
    ap.add_argument("dst")
    a = ap.parse_args()
    with open(os.path.join(a.src, "config.json")) as f:
        config = json.load(f)
    if config.get("formatVersion", 1) != 1:
        raise SystemExit(f"{a.src}: formatVersion {config.get('formatVersion')}, expected 1")
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
    ref = old.run(None, feeds)
    got = ort_step(new, embeds, positions, np.ones((1, 340)), past)
    d_old = max(float(np.abs(r - g).max()) for r, g in zip(ref, got))
    d_batch = batched_diff(new, embeds[0], embeds[0, :7], got)
    print(json.dumps({"formatVersion2VsOld": d_old, "batchVsRowsAlone": d_batch}))
    if d_old > 1e-5 or d_batch > 1e-4:
        raise SystemExit("the format-2 graph does not compute what the old one did")
    config["formatVersion"] = 2
    with open(os.path.join(a.dst, "config.json"), "w") as f:
        json.dump(config, f, indent=2)


if __name__ == "__main__":
    main()
