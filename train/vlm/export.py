"""Export a trained streaming VLM to a model folder in the layout of docs/model-format.md, checked against
PyTorch with onnxruntime before anything is written out, with reference outputs for the numerics fixtures."""
import inspect
import json
import os

import numpy as np
import torch

from .chat import CHAT


def export_graph(module, args, path, inputs, outputs, axes):
    kw = dict(input_names=inputs, output_names=outputs, dynamic_axes=axes, opset_version=17)
    if "dynamo" not in inspect.signature(torch.onnx.export).parameters:  # torch < 2.5: TorchScript only
        torch.onnx.export(module, args, path, **kw)
    else:
        try:
            torch.onnx.export(module, args, path, dynamo=False, **kw)
        except Exception as err:  # TorchScript exporter gone in this torch: use the dynamo one
            print("legacy export failed, trying dynamo:", repr(err)[:300])
            torch.onnx.export(module, args, path, dynamo=True, external_data=False, **kw)
    import onnx

    onnx.checker.check_model(onnx.load(path))


def step_graph_io(layers: int, kv_heads: int, head_dim: int, hidden: int):
    """Names, dynamic axes and an example input of the decoder step graph (docs/model-format.md, format 2),
    traced with B=2 rows, P=2 past and T=3 new tokens so no axis is specialised."""
    kv_in = [f"past_{n}_{i}" for i in range(layers) for n in ("key", "value")]
    kv_out = [f"new_{n}_{i}" for i in range(layers) for n in ("key", "value")]
    axes = {"inputs_embeds": {0: "B", 1: "T"}, "position_ids": {0: "B", 1: "T"}, "attention_mask": {0: "B", 1: "PT"},
            "logits": {0: "B", 1: "T"}}
    axes.update({n: {0: "B", 1: "P"} for n in kv_in})
    axes.update({n: {0: "B", 1: "T"} for n in kv_out})
    mask = torch.ones(2, 5, dtype=torch.int64)
    mask[1, 1] = 0
    example = (torch.randn(2, 3, hidden), torch.arange(2, 5).unsqueeze(0).repeat(2, 1), mask) + tuple(
        torch.randn(2, 2, kv_heads, head_dim) for _ in kv_in)
    return ["inputs_embeds", "position_ids", "attention_mask"] + kv_in, ["logits"] + kv_out, axes, example


def step(decoder, embeds, positions, past):
    """One unbatched step (B=1, nothing masked) of a format-2 decoder module."""
    mask = torch.ones(1, past[0].shape[1] + embeds.shape[1], dtype=torch.int64)
    return decoder(embeds, positions, mask, *past)


def reference_steps(decoder, embed, ids_a, ids_b, layers, kv_heads, head_dim):
    """stepA (empty past), stepB (stepA's K/V as past) and stepShifted (stepA's ids at positions 100..)."""
    empty = [torch.zeros(1, 0, kv_heads, head_dim) for _ in range(2 * layers)]
    pos_a = torch.arange(len(ids_a)).unsqueeze(0)
    pos_b = torch.arange(len(ids_a), len(ids_a) + len(ids_b)).unsqueeze(0)
    ra = step(decoder, embed[ids_a].unsqueeze(0), pos_a, empty)
    rb = step(decoder, embed[ids_b].unsqueeze(0), pos_b, list(ra[1:]))
    rs = step(decoder, embed[ids_a].unsqueeze(0), pos_a + 100, empty)
    return (pos_a, ra), (pos_b, rb), (pos_a + 100, rs)


def flat(t):
    return [float(x) for x in t.detach().reshape(-1).tolist()]


def export_model(decoder, vision, tok, cfg: dict, out: str) -> dict:
    decoder, vision = decoder.float().cpu().eval(), vision.float().cpu().eval()
    os.makedirs(out, exist_ok=True)
    dc, vc = decoder.c, cfg["vision"]
    L, kv, hd, d = dc["numLayers"], dc["numKvHeads"], dc["headDim"], dc["hiddenSize"]
    torch.manual_seed(0)
    with torch.no_grad():
        frames = torch.rand(2, 3, vc["imageHeight"], vc["imageWidth"]) * 2 - 1
        export_graph(vision, (frames,), os.path.join(out, "vision.onnx"), ["pixel_values"], ["visual_embeds"],
                {"pixel_values": {0: "F"}, "visual_embeds": {0: "F"}})
        vref = vision(frames)
        inputs, outputs, axes, example = step_graph_io(L, kv, hd, d)
        export_graph(decoder, example, os.path.join(out, "decoder.onnx"), inputs, outputs, axes)
        embed = decoder.embed.weight.detach()
        ids_a = tok.encode("<|user|>Time=3-4 s<|assistant|> Goal!").ids
        ids_b = tok.encode(" Red pass").ids
        (pos_a, ra), (pos_b, rb), (pos_s, rs) = reference_steps(decoder, embed, ids_a, ids_b, L, kv, hd)
    diffs = check_ort(out, frames, vref, embed, ids_a, ids_b, ra, rb, L)
    embed.numpy().astype("<f4").tofile(os.path.join(out, "embed_tokens.bin"))
    tok.save(os.path.join(out, "tokenizer.json"))
    with open(os.path.join(out, "tokenizer_config.json"), "w") as f:
        json.dump({"tokenizer_class": "PreTrainedTokenizerFast", "add_bos_token": False, "add_eos_token": False,
                   "eos_token": "<|end|>", "pad_token": "<|pad|>"}, f)
    config = {
        "format": "sightline-streaming-vlm", "formatVersion": 2, "name": cfg["name"],
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

    reference = {
        "tokenizer": [{"text": t, "ids": tok.encode(t).ids} for t in texts],
        "vision": {"shape": list(frames.shape), "pixel_values": flat(frames), "outShape": list(vref.shape),
                   "visual_embeds": flat(vref)},
        "stepA": step_ref(ids_a, pos_a, ra, L), "stepB": step_ref(ids_b, pos_b, rb, L), "stepShifted": step_ref(ids_a, pos_s, rs, L),
    }
    with open(os.path.join(out, "reference.json"), "w") as f:
        json.dump(reference, f)
    return diffs


def step_ref(ids, pos, r, layers):
    # Only the last row's logits: what the runtime returns and the tests compare (every row was 4x the bytes).
    last = r[0][:, -1:, :]
    ref = {"ids": ids, "positions": pos.reshape(-1).tolist(), "logitsShape": list(last.shape), "logits": flat(last)}
    for i in range(layers):
        ref[f"new_key_{i}"], ref[f"new_value_{i}"] = flat(r[1 + 2 * i]), flat(r[2 + 2 * i])
    ref["kvShape"] = list(r[1].shape)
    return ref


def ort_step(session, embeds, positions, mask, past):
    feeds = {"inputs_embeds": embeds, "position_ids": positions.astype(np.int64), "attention_mask": mask.astype(np.int64)}
    for i in range(len(past) // 2):
        feeds[f"past_key_{i}"], feeds[f"past_value_{i}"] = past[2 * i], past[2 * i + 1]
    return session.run(None, feeds)


def batched_diff(session, embeds_a, embeds_b, ra):
    """A batch of two streams, as the runtime packs them: row 0 continues stream A (stepA's K/V as past, the
    new rows embeds_b), row 1 is a fresh stream (no past: its past columns are padding) with one new row
    fewer (the last new column is padding too). Each row must equal its own unbatched step."""
    p, t = ra[1].shape[1], embeds_b.shape[0]
    fresh = embeds_a[: t - 1]
    solo0 = ort_step(session, embeds_b[None], np.arange(p, p + t)[None], np.ones((1, p + t)), ra[1:])
    solo1 = ort_step(session, fresh[None], np.arange(t - 1)[None], np.ones((1, t - 1)), [np.zeros((1, 0) + x.shape[2:], np.float32) for x in ra[1:]])
    embeds = np.zeros((2, t, embeds_b.shape[1]), np.float32)
    embeds[0], embeds[1, : t - 1] = embeds_b, fresh
    positions = np.stack([np.arange(p, p + t), np.concatenate([np.arange(t - 1), [0]])])
    mask = np.ones((2, p + t))
    mask[1, :p] = 0
    mask[1, p + t - 1] = 0
    past = [np.concatenate([x, np.zeros_like(x)]) for x in ra[1:]]
    both = ort_step(session, embeds, positions, mask, past)
    d0 = max(float(np.abs(o[0:1] - s).max()) for o, s in zip(both, solo0))
    d1 = max(float(np.abs(o[1:2, : t - 1] - s).max()) for o, s in zip(both, solo1))
    return max(d0, d1)


def check_ort(out, frames, vref, embed, ids_a, ids_b, ra, rb, L):
    """The exported graphs against PyTorch (vision, stepA, stepB) and a padded batch against its rows alone."""
    import onnxruntime as ort

    vs = ort.InferenceSession(os.path.join(out, "vision.onnx"), providers=["CPUExecutionProvider"])
    dv = float(np.abs(vs.run(None, {"pixel_values": frames.numpy()})[0] - vref.numpy()).max())
    ds = ort.InferenceSession(os.path.join(out, "decoder.onnx"), providers=["CPUExecutionProvider"])
    kvh = tuple(ra[1].shape[2:])
    ea, eb = embed[ids_a].numpy(), embed[ids_b].numpy()
    empty = [np.zeros((1, 0) + kvh, np.float32) for _ in range(2 * L)]
    oa = ort_step(ds, ea[None], np.arange(len(ids_a))[None], np.ones((1, len(ids_a))), empty)
    da = max(float(np.abs(o - r.numpy()).max()) for o, r in zip(oa, ra))
    pb = np.arange(len(ids_a), len(ids_a) + len(ids_b))[None]
    ob = ort_step(ds, eb[None], pb, np.ones((1, len(ids_a) + len(ids_b))), oa[1:])
    db = max(float(np.abs(o - r.numpy()).max()) for o, r in zip(ob, rb))
    dbatch = batched_diff(ds, ea, eb, oa)
    print(f"ort vs torch: vision {dv:.2e} stepA {da:.2e} stepB {db:.2e}; batch vs rows alone {dbatch:.2e}", flush=True)
    assert max(dv, da, db) < 1e-4, "exported graph does not match PyTorch"
    assert dbatch < 1e-4, "a row of a padded batch differs from the same step alone"
    return {"vision": dv, "stepA": da, "stepB": db, "batch": dbatch}
