"""A >= 1B-parameter commentator with random weights: the architecture of train/vlm/modeling.py (the shipped
model's), scaled up, exported in the model-folder layout of docs/model-format.md for the GPU benchmark.

    python3 .gpu/make_scaled_model.py --out /tmp/scaled [--layers 23 --hidden 2048 ...]

Run from the checkout root (imports train.vlm.modeling; copies the shipped model's tokenizer, vision and
chat settings). Weights are initialised on the GPU (fast), exported from the CPU with the TorchScript
exporter (opset 17); the decoder is > 2 GB, so its weights go to ONNX external data next to decoder.onnx.
No PyTorch reference check here (random weights, benchmark only): the graphs are the same code as the
shipped model's, whose export is checked against PyTorch.
"""
import argparse
import json
import os
import shutil
import time

import torch

from train.vlm.export import step_graph_io
from train.vlm.modeling import Decoder, VisionEncoder, count_params

ap = argparse.ArgumentParser()
ap.add_argument("--out", required=True)
ap.add_argument("--base", default="models/sightline-commentator-v2")
ap.add_argument("--layers", type=int, default=23)
ap.add_argument("--hidden", type=int, default=2048)
ap.add_argument("--heads", type=int, default=16)
ap.add_argument("--kv-heads", type=int, default=4)
ap.add_argument("--head-dim", type=int, default=128)
ap.add_argument("--intermediate", type=int, default=5632)
ap.add_argument("--max-positions", type=int, default=32768)
a = ap.parse_args()

t0 = time.time()
base = json.load(open(os.path.join(a.base, "config.json")))
c = {"hiddenSize": a.hidden, "numLayers": a.layers, "numHeads": a.heads, "numKvHeads": a.kv_heads, "headDim": a.head_dim,
     "intermediateSize": a.intermediate, "rmsNormEps": 1e-5, "maxPositions": a.max_positions, "vocabSize": base["decoder"]["vocabSize"]}
rope = {"theta": base["rope"]["theta"]}
v = dict(base["vision"], width=128)
dev = "cuda" if torch.cuda.is_available() else "cpu"
torch.manual_seed(0)
with torch.device(dev):
    decoder = Decoder(c, rope)
    vision = VisionEncoder(v, a.hidden)
decoder, vision = decoder.float().cpu().eval(), vision.float().cpu().eval()
params = count_params(decoder) + count_params(vision)
print(f"params: decoder {count_params(decoder) / 1e9:.3f} B, vision {count_params(vision) / 1e6:.1f} M, total {params / 1e9:.3f} B "
      f"({time.time() - t0:.0f} s)", flush=True)
os.makedirs(a.out, exist_ok=True)
L, kv, hd, d = a.layers, a.kv_heads, a.head_dim, a.hidden
with torch.no_grad():
    frames = torch.rand(2, 3, v["imageHeight"], v["imageWidth"]) * 2 - 1
    torch.onnx.export(vision, (frames,), os.path.join(a.out, "vision.onnx"), input_names=["pixel_values"], output_names=["visual_embeds"],
                      dynamic_axes={"pixel_values": {0: "F"}, "visual_embeds": {0: "F"}}, opset_version=17, dynamo=False)
    inputs, outputs, axes, example = step_graph_io(L, kv, hd, d)
    names = dict(input_names=inputs, output_names=outputs, dynamic_axes=axes, opset_version=17)
    try:  # the TorchScript exporter (as train/vlm/export.py) moves > 2 GB of weights to external data itself
        torch.onnx.export(decoder, example, os.path.join(a.out, "decoder.onnx"), dynamo=False, **names)
    except Exception as err:  # noqa: BLE001 - fall back to the dynamo exporter, which takes external_data
        print(f"TorchScript export failed ({str(err)[:300]}); retrying with dynamo=True, external_data=True", flush=True)
        for f in os.listdir(a.out):
            if f not in ("vision.onnx",):
                os.remove(os.path.join(a.out, f))
        torch.onnx.export(decoder, example, os.path.join(a.out, "decoder.onnx"), dynamo=True, external_data=True, **names)
decoder.embed.weight.detach().numpy().astype("<f4").tofile(os.path.join(a.out, "embed_tokens.bin"))
for f in ("tokenizer.json", "tokenizer_config.json"):
    shutil.copy(os.path.join(a.base, f), a.out)
cfg = dict(base, name=f"scaled-random-{params / 1e9:.2f}b", decoder=c)
cfg["rope"] = dict(base["rope"], headDim=hd)
json.dump(cfg, open(os.path.join(a.out, "config.json"), "w"), indent=2)
size = sum(os.path.getsize(os.path.join(a.out, f)) for f in os.listdir(a.out))
print(f"exported {cfg['name']} to {a.out}: {len(os.listdir(a.out))} files, {size / 2**30:.2f} GiB ({time.time() - t0:.0f} s)", flush=True)
