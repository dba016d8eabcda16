"""A training checkpoint (train.py's format) rebuilt from an exported model folder, for a stage that starts from
a model whose PyTorch checkpoint is not at hand (stage 10 starts from v5, whose checkpoint lived on machines that
are gone; the fp32 folder is in git history: scripts/restore-model.sh sightline-commentator-v5):

    python3 -m train.vlm.import_folder .cache/models/sightline-commentator-v5 OUT/vlm.ckpt

- Decoder: every weight read out of decoder.onnx (upgrade_format.load_weights: float32, float16 or int8 storage)
  and the token embeddings from embed_tokens.bin.
- Vision encoder: the export folded each BatchNorm into the convolution before it, so each Conv gets the folded
  weight and bias and its BatchNorm passes values through unchanged in eval mode (mean 0, variance 1 - eps,
  weight 1, bias 0); the attention pool, LayerNorm, projector, `pos` and `queries` are read by name or position.
  In train mode a BatchNorm would normalise with batch statistics instead and change the function, so the
  checkpoint carries `vision.frozenBatchNorm` in its architecture: such a model keeps its BatchNorms in eval
  mode while training (modeling.VisionEncoder.train).
- The auxiliary heads are training-only and not in the folder: they start fresh.
Checked before writing against the folder's reference.json (the PyTorch outputs stored at export): visual tokens
and the logits of its first step must agree within 1e-4, or nothing is written.
"""
import argparse
import io
import json
import math
import os
import random

import numpy as np
import onnx
import torch
import torch.nn.functional as F

from ..parts import write_parts
from .modeling import Decoder, VisionEncoder
from .upgrade_format import constants, load_weights


def causal_attention(q, k, v, is_causal=False):
    """What F.scaled_dot_product_attention computes for the decoder's training forward (causal, no mask): torch
    before 2.0 (Debian's 1.13, on the developer VM) lacks it, and the import's logits check needs it."""
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if is_causal:
        n, m = q.shape[-2], k.shape[-2]
        scores = scores.masked_fill(torch.ones(n, m, dtype=torch.bool).triu(m - n + 1), float("-inf"))
    return scores.softmax(-1) @ v


def vision_arch(graph, config: dict) -> dict:
    """The encoder's shape from its graph: width from the stem (its 4x4 conv makes width / 4 channels), grid
    blocks from the count of convolutions (stem 1 + two ConvBlocks x 2 + 2 per grid block)."""
    values = constants(graph)
    convs = [values[n.input[1]] for n in graph.node if n.op_type == "Conv"]
    if any(n.op_type == "BatchNormalization" for n in graph.node):
        raise SystemExit("vision.onnx has unfolded BatchNormalization nodes: not the export this importer reads")
    grid = (len(convs) - 5) // 2
    if len(convs) != 5 + 2 * grid:
        raise SystemExit(f"vision.onnx has {len(convs)} convolutions; expected 5 + 2 per grid block (a detail branch is not supported)")
    keys = ("imageWidth", "imageHeight", "framesPerSecond", "tokensPerFrame", "mean", "std")
    return {**{k: config["vision"][k] for k in keys}, "width": convs[0].shape[0] * 4, "gridBlocks": grid, "frozenBatchNorm": True}


def load_vision(vision: VisionEncoder, graph) -> None:
    values = constants(graph)
    nodes = list(graph.node)
    convs = [(values[n.input[1]], values[n.input[2]]) for n in nodes if n.op_type == "Conv"]
    pairs = [(vision.stem[0], vision.stem[1])]
    for block in list(vision.blocks) + list(vision.grid_blocks):
        pairs += [(block.conv1, block.norm1), (block.conv2, block.norm2)]
    matmuls = [values[n.input[1]] for n in nodes if n.op_type == "MatMul" and n.input[1] in values]
    t = lambda a: torch.from_numpy(np.array(a, dtype=np.float32))  # a copy: graph arrays are read-only
    with torch.no_grad():
        for (conv, norm), (w, b) in zip(pairs, convs, strict=True):
            conv.weight.copy_(t(w))
            conv.bias.copy_(t(b))
            norm.weight.fill_(1.0)
            norm.bias.zero_()
            norm.running_mean.zero_()
            norm.running_var.fill_(1.0 - norm.eps)
        for name in ("pos", "queries", "attn.in_proj_weight", "attn.in_proj_bias", "attn.out_proj.weight",
                     "attn.out_proj.bias", "ln.weight", "ln.bias", "proj.0.bias", "proj.2.bias"):
            vision.get_parameter(name).copy_(t(values[name]))
        # The projector's Linear layers were exported as MatMul with the transposed weight, in order.
        if len(matmuls) != 2:
            raise SystemExit(f"vision.onnx has {len(matmuls)} constant MatMul weights, expected the projector's 2")
        vision.proj[0].weight.copy_(t(matmuls[0].T))
        vision.proj[2].weight.copy_(t(matmuls[1].T))


def check(decoder: Decoder, vision: VisionEncoder, reference: dict) -> dict:
    """Max abs difference to the stored PyTorch outputs: visual tokens, and the logits of step A (empty past)."""
    r = reference["vision"]
    with torch.no_grad():
        frames = torch.tensor(r["pixel_values"], dtype=torch.float32).reshape(r["shape"])
        d_vision = float((vision(frames).reshape(-1) - torch.tensor(r["visual_embeds"])).abs().max())
        a = reference["stepA"]
        ids = torch.tensor(a["ids"])
        logits = decoder.forward_train(decoder.embed.weight[ids].unsqueeze(0), torch.tensor(a["positions"]).unsqueeze(0))
        last = logits[:, -1, :].reshape(-1)  # the reference keeps the last row (export.step_ref)
        d_logits = float((last - torch.tensor(a["logits"][-last.numel():])).abs().max())
    return {"vision": d_vision, "stepALogits": d_logits}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("folder", help="an exported sightline-streaming-vlm folder with reference.json")
    ap.add_argument("out", help="checkpoint path prefix: writes OUT.000, ... (train.py --resume OUT)")
    ap.add_argument("--seed", type=int, default=1234, help="seeds the trainer's Python RNG state in the checkpoint")
    a = ap.parse_args()
    if not hasattr(F, "scaled_dot_product_attention"):
        F.scaled_dot_product_attention = causal_attention
    with open(os.path.join(a.folder, "config.json")) as f:
        config = json.load(f)
    dc = config["decoder"]
    decoder = Decoder(dc, {"theta": config["rope"]["theta"]}).eval()
    load_weights(decoder, onnx.load(os.path.join(a.folder, "decoder.onnx")).graph)
    embed = np.fromfile(os.path.join(a.folder, "embed_tokens.bin"), dtype="<f4").reshape(dc["vocabSize"], dc["hiddenSize"])
    with torch.no_grad():
        decoder.embed.weight.copy_(torch.from_numpy(embed))
    vgraph = onnx.load(os.path.join(a.folder, "vision.onnx")).graph
    v = vision_arch(vgraph, config)
    vision = VisionEncoder(v, dc["hiddenSize"]).eval()
    load_vision(vision, vgraph)
    with open(os.path.join(a.folder, "reference.json")) as f:
        diffs = check(decoder, vision, json.load(f))
    print(json.dumps({"maxAbsDiffToReference": diffs, "vision": {k: v[k] for k in ("width", "gridBlocks")}}))
    if max(diffs.values()) > 1e-4:
        raise SystemExit("the rebuilt model does not compute what the folder's reference says: nothing written")
    step = 0
    log_path = os.path.join(a.folder, "train-log.json")
    if os.path.exists(log_path):
        with open(log_path) as f:
            step = json.load(f).get("step", 0)
    with open(os.path.join(a.folder, "tokenizer.json")) as f:
        tokenizer = f.read()
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    buf = io.BytesIO()
    torch.save({"decoder": decoder.state_dict(), "vision": vision.state_dict(), "step": step,
                "architecture": {"decoder": decoder.c, "vision": vision.v}, "heads": {},
                "rng": random.Random(a.seed).getstate(), "tokenizer": tokenizer, "val": None,
                "importedFrom": os.path.abspath(a.folder)}, buf)
    write_parts(buf.getvalue(), a.out)


if __name__ == "__main__":
    main()
