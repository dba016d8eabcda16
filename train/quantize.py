"""int8 variant of a commentator folder: onnxruntime dynamic quantization (int8 weights per output
channel, activations quantized at run time) of the chosen graphs; other files copied. Needs the
onnxruntime Python package (present on the GPU machine; see docs/commentator-model.md):

    python3 -m train.quantize models/sightline-commentator-v2 /tmp/int8 \\
        [--graphs decoder.onnx vision.onnx] [--exclude /lm_head/MatMul]

`--graphs` lists the graphs to quantize (the others are copied in fp32); `--exclude` keeps the named nodes
in fp32 inside a quantized graph; `--per-tensor`, `--reduce-range` and `--weight-type uint8` are the other
settings compared in docs/commentator-model.md.
"""
import argparse
import json
import os
import shutil

from onnxruntime.quantization import QuantType, quantize_dynamic


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--graphs", nargs="+", default=["vision.onnx", "decoder.onnx"])
    ap.add_argument("--exclude", nargs="*", default=[], help="node names kept in fp32")
    ap.add_argument("--per-tensor", action="store_true", help="one scale per weight tensor, not per output channel")
    ap.add_argument("--reduce-range", action="store_true", help="7-bit weights (onnxruntime's reduce_range)")
    ap.add_argument("--weight-type", choices=("int8", "uint8"), default="int8")
    a = ap.parse_args()
    os.makedirs(a.dst, exist_ok=True)
    for name in os.listdir(a.src):
        quantized = name in a.graphs
        # fp32 references and the fp32 training log do not apply to the quantized folder
        if not quantized and name != "reference.json" and not name.startswith("train-log"):
            shutil.copy(os.path.join(a.src, name), a.dst)
    config_path = os.path.join(a.dst, "config.json")
    if os.path.exists(config_path):
        config = json.load(open(config_path))
        config["name"] = config["name"].removesuffix("-int8") + "-int8"
        with open(config_path, "w") as f:
            json.dump(config, f, indent=2)
    for graph in a.graphs:
        src, dst = os.path.join(a.src, graph), os.path.join(a.dst, graph)
        weight_type = QuantType.QInt8 if a.weight_type == "int8" else QuantType.QUInt8
        quantize_dynamic(src, dst, weight_type=weight_type, per_channel=not a.per_tensor, reduce_range=a.reduce_range,
                         nodes_to_exclude=a.exclude)
        print(graph, os.path.getsize(src), "->", os.path.getsize(dst))


if __name__ == "__main__":
    main()
