"""Export the retrieval towers as ONNX (fp32, opset 17) with config.json, tokenizer.json and reference.json,
checked against PyTorch with onnxruntime before the folder is complete.

video.onnx: pixel_values [B, F, 3, H, W] float32 (normalised with config.video mean/std) -> video_embeds [B, E]
text.onnx:  input_ids [B, T] int64 (<|bos|> ids <|eos|>, right-padded with <|pad|>), attention_mask [B, T] int64
            -> text_embeds [B, E]
Both outputs are L2-normalised: cosine similarity is a dot product."""
import json
import os
import re

import numpy as np
import torch

from .text import pad_rows, token_rows

# Reference texts: different lengths, so the padded row and the mask are exercised.
REFERENCE_TEXTS = [
    "Red vs Blue, Red 1-0 Blue, 12th minute of the first half: Red number 9 shoots, then the Blue keeper saves; play at the right end, Red in possession.",
    "a goal for blue",
]
PIXEL_PATTERN = "((i * 7919) % 255) / 127.5 - 1"


class _Video(torch.nn.Module):
    def __init__(self, tower):
        super().__init__()
        self.tower = tower

    def forward(self, pixel_values):
        return self.tower(pixel_values)


def _export(module, args, path, inputs, outputs, axes):
    kw = dict(input_names=inputs, output_names=outputs, dynamic_axes=axes, opset_version=17)
    try:
        torch.onnx.export(module, args, path, dynamo=False, **kw)
    except Exception as err:  # TorchScript exporter gone in this torch: use the dynamo one
        print("legacy export failed, trying dynamo:", repr(err)[:300], flush=True)
        torch.onnx.export(module, args, path, dynamo=True, external_data=False, **kw)
    import onnx

    onnx.checker.check_model(onnx.load(path))


def pattern_pixels(shape):
    """The fixture input, rebuilt in TypeScript as x[i] = ((i * 7919) % 255) / 127.5 - 1: computed in float64
    and rounded once to float32, as a Float32Array store of the JS number does."""
    i = np.arange(int(np.prod(shape)), dtype=np.int64)
    return torch.from_numpy((((i * 7919) % 255) / 127.5 - 1).astype(np.float32).reshape(shape))


def variant_name(model_name, variant):
    """The folder name of a variant: the baseline gets "-meanpool" before the version suffix
    (sightline-retrieval-v2 -> sightline-retrieval-meanpool-v2)."""
    return model_name if variant == "prompt-switch" else re.sub(r"(-v\d+)?$", r"-meanpool\1", model_name, count=1)


def export_retrieval(video, text, tok, cfg, name, use_cube, out):
    os.makedirs(out, exist_ok=True)
    video, text = video.float().cpu().eval(), text.float().cpu().eval()
    vc = cfg["video"]
    torch.manual_seed(0)
    # Traced with 2 clips of 5 frames, so neither axis is specialised to the 1 x framesPerClip used at runtime.
    pix = torch.rand(2, 5, 3, vc["imageHeight"], vc["imageWidth"]) * 2 - 1
    rows, _ = token_rows(tok, REFERENCE_TEXTS, cfg["text"]["maxTokens"])
    ids, mask = pad_rows(tok, rows)
    vid_path, txt_path = os.path.join(out, "video.onnx"), os.path.join(out, "text.onnx")
    with torch.no_grad():
        _export(_Video(video), (pix,), vid_path, ["pixel_values"], ["video_embeds"],
                {"pixel_values": {0: "B", 1: "F"}, "video_embeds": {0: "B"}})
        _export(text, (ids, mask), txt_path, ["input_ids", "attention_mask"], ["text_embeds"],
                {"input_ids": {0: "B", 1: "T"}, "attention_mask": {0: "B", 1: "T"}, "text_embeds": {0: "B"}})
    import onnxruntime as ort

    shape = (1, vc["framesPerClip"], 3, vc["imageHeight"], vc["imageWidth"])
    pix8 = pattern_pixels(shape)
    one_ids, one_mask = pad_rows(tok, rows[1:])  # the short text alone: no padding, T differs from the pair
    with torch.no_grad():
        ref_v, ref_t = video(pix8), text(ids, mask)
        ref_v5, ref_t1 = video(pix), text(one_ids, one_mask)
    sv = ort.InferenceSession(vid_path, providers=["CPUExecutionProvider"])
    st = ort.InferenceSession(txt_path, providers=["CPUExecutionProvider"])
    got_v = sv.run(None, {"pixel_values": pix8.numpy()})[0]
    got_v5 = sv.run(None, {"pixel_values": pix.numpy()})[0]
    got_t = st.run(None, {"input_ids": ids.numpy(), "attention_mask": mask.numpy()})[0]
    got_t1 = st.run(None, {"input_ids": one_ids.numpy(), "attention_mask": one_mask.numpy()})[0]
    diffs = {
        "video_1x8": float(np.abs(got_v - ref_v.numpy()).max()),
        "video_2x5": float(np.abs(got_v5 - ref_v5.numpy()).max()),
        "text_padded_pair": float(np.abs(got_t - ref_t.numpy()).max()),
        "text_single": float(np.abs(got_t1 - ref_t1.numpy()).max()),
        # padding must not change a text's embedding
        "text_pad_invariance": float(np.abs(ref_t[1].numpy() - ref_t1[0].numpy()).max()),
    }
    print(f"{name}: ort vs torch max abs diff {diffs}", flush=True)
    assert got_v.shape == (1, vc["embedDim"]) and got_t.shape == (2, vc["embedDim"]), (got_v.shape, got_t.shape)
    assert max(diffs.values()) < 1e-4, f"exported retrieval graph does not match PyTorch: {diffs}"
    tok.save(os.path.join(out, "tokenizer.json"))
    config = {
        "format": "sightline-retrieval", "formatVersion": 1, "name": variant_name(cfg["name"], name),
        "variant": name, "promptCube": use_cube,
        "video": {**{k: vc[k] for k in ("imageWidth", "imageHeight", "framesPerClip", "mean", "std", "embedDim")},
                  "input": "pixel_values [B, F, 3, H, W] float32 RGB, (x / 255 - mean) / std; F = framesPerClip frames at the centres of F equal parts of the clip"},
        "clipSeconds": cfg["clipSeconds"],
        # The captions it learned from (src/synth CaptionVersion): queries phrased that way match best.
        "captionVersion": int(cfg["render"].get("captionVersion", 1)),
        "text": {"maxTokens": cfg["text"]["maxTokens"], "bos": "<|bos|>", "eos": "<|eos|>", "pad": "<|pad|>",
                 "input": "input_ids [B, T] int64 = bos + tokenizer ids (no special tokens added, cut to maxTokens - 2) + eos, right-padded with pad; attention_mask 1 on real tokens"},
        "similarity": "dot product of L2-normalised video_embeds and text_embeds (cosine)",
        "files": {"video": "video.onnx", "text": "text.onnx", "tokenizer": "tokenizer.json"},
    }
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    with open(os.path.join(out, "reference.json"), "w") as f:
        json.dump({"pixelShape": list(shape), "pixelPattern": PIXEL_PATTERN,
                   "video_embeds": [float(x) for x in ref_v.reshape(-1)],
                   "texts": REFERENCE_TEXTS, "input_ids": ids.tolist(), "attention_mask": mask.tolist(),
                   "text_embeds": [float(x) for x in ref_t.reshape(-1)], "ortMaxAbsDiff": diffs}, f)
    return diffs
