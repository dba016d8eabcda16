"""Export a trained streaming VLM to a model folder in the layout of docs/model-format.md, checked against
PyTorch with onnxruntime before anything is written out, with reference outputs for the numerics fixtures."""
import json
import os

import numpy as np
import torch

from .chat import CHAT


def _export(module, args, path, inputs, outputs, axes):
    torch.onnx.export(module, args, path, input_names=inputs, output_names=outputs, dynamic_axes=axes,
                      opset_version=17, dynamo=False)
    import onnx

    onnx.checker.check_model(onnx.load(path))


def step_graph_io(layers: int, kv_heads: int, head_dim: int, hidden: int):
    """Names, dynamic axes and an example input of the decoder step graph (docs/model-format.md), traced with
    P=2 past and T=3 new tokens so neither axis is specialised."""
    kv_in = [f"past_{n}_{i}" for i in range(layers) for n in ("key", "value")]
    kv_out = [f"new_{n}_{i}" for i in range(layers) for n in ("key", "value")]
    axes = {"inputs_embeds": {1: "T"}, "position_ids": {1: "T"}, "logits": {1: "T"}}
    axes.update({n: {1: "P"} for n in kv_in})
    axes.update({n: {1: "T"} for n in kv_out})
    example = (torch.randn(1, 3, hidden), torch.arange(2, 5).unsqueeze(0)) + tuple(torch.randn(1, 2, kv_heads, head_dim) for _ in kv_in)
    return ["inputs_embeds", "position_ids"] + kv_in, ["logits"] + kv_out, axes, example


def _flat(t):
    return [float(x) for x in t.detach().reshape(-1).tolist()]


def export_model(decoder, vision, tok, cfg: dict, out: str) -> dict:
    decoder, vision = decoder.float().cpu().eval(), vision.float().cpu().eval()
    os.makedirs(out, exist_ok=True)
    dc, vc = decoder.c, cfg["vision"]
    L, kv, hd, d = dc["numLayers"], dc["numKvHeads"], dc["headDim"], dc["hiddenSize"]
    torch.manual_seed(0)
    with torch.no_grad():
        frames = torch.rand(2, 3, vc["imageHeight"], vc["imageWidth"]) * 2 - 1
        _export(vision, (frames,), os.path.join(out, "vision.onnx"), ["pixel_values"], ["visual_embeds"],
                {"pixel_values": {0: "F"}, "visual_embeds": {0: "F"}})
        vref = vision(frames)
        inputs, outputs, axes, example = step_graph_io(L, kv, hd, d)
        _export(decoder, example, os.path.join(out, "decoder.onnx"), inputs, outputs, axes)
        embed = decoder.embed.weight.detach()
        ids_a = tok.encode("<|user|>Time=3-4 s<|assistant|> Goal!").ids
        ids_b = tok.encode(" Red pass").ids
        empty = [torch.zeros(1, 0, kv, hd) for _ in range(2 * L)]
        pos_a = torch.arange(len(ids_a)).unsqueeze(0)
        ra = decoder(embed[ids_a].unsqueeze(0), pos_a, *empty)
        pos_b = torch.arange(len(ids_a), len(ids_a) + len(ids_b)).unsqueeze(0)
        rb = decoder(embed[ids_b].unsqueeze(0), pos_b, *ra[1:])
        rs = decoder(embed[ids_a].unsqueeze(0), pos_a + 100, *empty)
    diffs = _check_ort(out, frames, vref, embed, ids_a, ids_b, ra, rb, L)
    embed.numpy().astype("<f4").tofile(os.path.join(out, "embed_tokens.bin"))
    tok.save(os.path.join(out, "tokenizer.json"))
    with open(os.path.join(out, "tokenizer_config.json"), "w") as f:
        json.dump({"tokenizer_class": "PreTrainedTokenizerFast", "add_bos_token": False, "add_eos_token": False,
                   "eos_token": "<|end|>", "pad_token": "<|pad|>"}, f)
    config = {
        "format": "sightline-streaming-vlm", "formatVersion": 1, "name": cfg["name"],
        "decoder": {**dc, "vocabSize": tok.get_vocab_size()},
        "rope": {"theta": cfg["rope"]["theta"], "headDim": hd, "style": "half", "angleDtype": "float64",
                 "keysCachedAfterRope": True},
        "kv": {"layout": "seq-major", "dtype": "float32"},
        "embeddings": {"file": "embed_tokens.bin", "dtype": "float32"},
        "vision": {k: vc[k] for k in ("imageWidth", "imageHeight", "framesPerSecond", "tokensPerFrame", "mean", "std")},
        "chat": CHAT, "generation": cfg["generation"], "runtime": {"executionProvider": "cpu"},
    }
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    texts = ["<|user|>Time=12-13 s", " ...", " Goal for Red!<|end|>", CHAT["defaultPrompt"], "héllo wörld 42"]

    def step_ref(ids, pos, r):
        ref = {"ids": ids, "positions": pos.reshape(-1).tolist(), "logitsShape": list(r[0].shape), "logits": _flat(r[0])}
        for i in range(L):
            ref[f"new_key_{i}"], ref[f"new_value_{i}"] = _flat(r[1 + 2 * i]), _flat(r[2 + 2 * i])
        ref["kvShape"] = list(r[1].shape)
        return ref

    reference = {
        "tokenizer": [{"text": t, "ids": tok.encode(t).ids} for t in texts],
        "vision": {"shape": list(frames.shape), "pixel_values": _flat(frames), "outShape": list(vref.shape),
                   "visual_embeds": _flat(vref)},
        "stepA": step_ref(ids_a, pos_a, ra), "stepB": step_ref(ids_b, pos_b, rb), "stepShifted": step_ref(ids_a, pos_a + 100, rs),
    }
    with open(os.path.join(out, "reference.json"), "w") as f:
        json.dump(reference, f)
    return diffs


def _check_ort(out, frames, vref, embed, ids_a, ids_b, ra, rb, L):
    import onnxruntime as ort

    vs = ort.InferenceSession(os.path.join(out, "vision.onnx"), providers=["CPUExecutionProvider"])
    dv = float(np.abs(vs.run(None, {"pixel_values": frames.numpy()})[0] - vref.numpy()).max())
    ds = ort.InferenceSession(os.path.join(out, "decoder.onnx"), providers=["CPUExecutionProvider"])
    kvh = tuple(ra[1].shape[2:])
    feeds = {"inputs_embeds": embed[ids_a].unsqueeze(0).numpy(), "position_ids": np.arange(len(ids_a))[None].astype(np.int64)}
    for i in range(L):
        feeds[f"past_key_{i}"] = np.zeros((1, 0) + kvh, np.float32)
        feeds[f"past_value_{i}"] = np.zeros((1, 0) + kvh, np.float32)
    oa = ds.run(None, feeds)
    da = max(float(np.abs(o - r.numpy()).max()) for o, r in zip(oa, ra))
    feeds = {"inputs_embeds": embed[ids_b].unsqueeze(0).numpy(),
             "position_ids": np.arange(len(ids_a), len(ids_a) + len(ids_b))[None].astype(np.int64)}
    for i in range(L):
        feeds[f"past_key_{i}"], feeds[f"past_value_{i}"] = oa[1 + 2 * i], oa[2 + 2 * i]
    ob = ds.run(None, feeds)
    db = max(float(np.abs(o - r.numpy()).max()) for o, r in zip(ob, rb))
    print(f"ort vs torch: vision {dv:.2e} stepA {da:.2e} stepB {db:.2e}", flush=True)
    assert max(dv, da, db) < 1e-4, "exported graph does not match PyTorch"
    return {"vision": dv, "stepA": da, "stepB": db}
