"""int8 variant of a commentator folder: onnxruntime dynamic quantization (int8 weights per output
channel, activations quantized at run time) of vision.onnx and decoder.onnx; other files copied.
Needs the onnxruntime Python package (present on the GPU machine; see docs/commentator-model.md):

    python3 -m train.quantize models/sightline-commentator-v1 /tmp/int8
"""
import os
import shutil
import sys

from onnxruntime.quantization import QuantType, quantize_dynamic


def main(src: str, dst: str) -> None:
    os.makedirs(dst, exist_ok=True)
    for name in os.listdir(src):
        if not name.endswith(".onnx") and name != "reference.json":  # fp32 references do not apply
            shutil.copy(os.path.join(src, name), dst)
    for graph in ("vision.onnx", "decoder.onnx"):
        quantize_dynamic(os.path.join(src, graph), os.path.join(dst, graph), weight_type=QuantType.QInt8, per_channel=True)
        print(graph, os.path.getsize(os.path.join(src, graph)), "->", os.path.getsize(os.path.join(dst, graph)))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
