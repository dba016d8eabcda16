"""Random-weight streaming VLMs with the exact graph interface of docs/model-format.md.

Usage (GPU machine or any host with torch, onnx, onnxruntime, tokenizers):
    python3 train/make_random_model.py --out OUT_DIR [--seed 7]

Writes OUT_DIR/tiny-random-1l and OUT_DIR/tiny-random-2l, each with config.json, tokenizer.json,
tokenizer_config.json, embed_tokens.bin, vision.onnx, decoder.onnx and reference.json (PyTorch
outputs for fixed inputs, the numerics fixtures). The exported graphs are checked against PyTorch
with onnxruntime before anything is written out.
"""
import argparse
import json
import math
import os
import random

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

SPECIAL = ["<|pad|>", "<|system|>", "<|user|>", "<|assistant|>", "<|end|>"]
CHAT = {
    "system": "<|system|>{prompt}<|end|>",
    "defaultPrompt": "You are a football commentator. Describe the match live.",
    "roundHeader": "<|user|>Time={start}-{end} s",
    "assistant": "<|assistant|>",
    "silence": " ...",
    "endOfTurn": "<|end|>",
}


# ---------------------------------------------------------------- tokenizer
def corpus(seed: int) -> list[str]:
    rnd = random.Random(seed)
    teams = ["Red", "Blue", "the home side", "the visitors"]
    players = ["Silva", "Okafor", "Jensen", "Moreau", "Tanaka", "Costa", "Kim", "Novak"]
    verbs = ["passes to", "crosses for", "tackles", "dribbles past", "shoots past", "finds"]
    events = ["Goal!", "What a save!", "Corner kick.", "Free kick.", "Offside.", "Yellow card.", "Kick off."]
    lines = []
    for i in range(600):
        a, b = rnd.sample(players, 2)
        t = rnd.randint(0, 5400)
        lines.append(f"<|user|>Time={t}-{t + 1} s<|assistant|> {a} {rnd.choice(verbs)} {b}.<|end|>")
        lines.append(f" {rnd.choice(events)} {rnd.choice(teams)} lead {rnd.randint(0, 4)}-{rnd.randint(0, 4)}.")
        lines.append(" ...")
        lines.append(f" {a} on the ball for {rnd.choice(teams)}, {rnd.randint(1, 90)} minutes played.")
    lines.append(CHAT["system"].replace("{prompt}", CHAT["defaultPrompt"]))
    return lines


def make_tokenizer(vocab_size: int, seed: int):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(corpus(seed), trainer=trainer)
    return tok


# ---------------------------------------------------------------- model
def rope_cos_sin(position_ids, head_dim, theta):
    """Angles in float64 (docs/model-format.md), cos/sin cast to float32: [1, T, 1, headDim]."""
    inv = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim))
    ang = position_ids.to(torch.float64).unsqueeze(-1) * inv  # [1,T,h/2]
    ang = torch.cat([ang, ang], dim=-1).unsqueeze(2)  # [1,T,1,hd]
    return torch.cos(ang).to(torch.float32), torch.sin(ang).to(torch.float32)


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], dim=-1)


class RMSNorm(nn.Module):
    def __init__(self, d, eps):
        super().__init__()
        self.w = nn.Parameter(1.0 + 0.1 * torch.randn(d))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.w


class Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, hd = c["hiddenSize"], c["headDim"]
        self.nh, self.nkv, self.hd = c["numHeads"], c["numKvHeads"], hd
        self.ln1 = RMSNorm(d, c["rmsNormEps"])
        self.ln2 = RMSNorm(d, c["rmsNormEps"])
        self.q = nn.Linear(d, self.nh * hd, bias=False)
        self.k = nn.Linear(d, self.nkv * hd, bias=False)
        self.v = nn.Linear(d, self.nkv * hd, bias=False)
        self.o = nn.Linear(self.nh * hd, d, bias=False)
        self.gate = nn.Linear(d, c["intermediateSize"], bias=False)
        self.up = nn.Linear(d, c["intermediateSize"], bias=False)
        self.down = nn.Linear(c["intermediateSize"], d, bias=False)

    def forward(self, x, cos, sin, past_k, past_v):
        b, t, _ = x.shape
        h = self.ln1(x)
        q = self.q(h).view(b, t, self.nh, self.hd)
        k = self.k(h).view(b, t, self.nkv, self.hd)
        v = self.v(h).view(b, t, self.nkv, self.hd)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin  # keys cached after RoPE
        kk = torch.cat([past_k, k], dim=1)  # [1,P+T,kv,hd]
        vv = torch.cat([past_v, v], dim=1)
        rep = self.nh // self.nkv
        kk = kk.transpose(1, 2).unsqueeze(2).expand(b, self.nkv, rep, kk.shape[1], self.hd).reshape(b, self.nh, -1, self.hd)
        vv = vv.transpose(1, 2).unsqueeze(2).expand(b, self.nkv, rep, vv.shape[1], self.hd).reshape(b, self.nh, -1, self.hd)
        qh = q.transpose(1, 2)  # [1,H,T,hd]
        scores = torch.matmul(qh, kk.transpose(-1, -2)) / math.sqrt(self.hd)  # [1,H,T,P+T]
        p = past_k.shape[1]
        qi = torch.arange(t).unsqueeze(1) + p
        kj = torch.arange(kk.shape[2]).unsqueeze(0)
        scores = scores.masked_fill((kj > qi).unsqueeze(0).unsqueeze(0), float("-inf"))
        att = torch.matmul(torch.softmax(scores, dim=-1), vv)  # [1,H,T,hd]
        x = x + self.o(att.transpose(1, 2).reshape(b, t, self.nh * self.hd))
        h2 = self.ln2(x)
        x = x + self.down(F.silu(self.gate(h2)) * self.up(h2))
        return x, k, v


class Decoder(nn.Module):
    def __init__(self, c, rope):
        super().__init__()
        self.c, self.rope = c, rope
        self.layers = nn.ModuleList([Layer(c) for _ in range(c["numLayers"])])
        self.norm = RMSNorm(c["hiddenSize"], c["rmsNormEps"])
        self.lm_head = nn.Linear(c["hiddenSize"], c["vocabSize"], bias=False)

    def forward(self, inputs_embeds, position_ids, *past):
        cos, sin = rope_cos_sin(position_ids, self.c["headDim"], self.rope["theta"])
        x = inputs_embeds
        outs = []
        for i, layer in enumerate(self.layers):
            x, k, v = layer(x, cos, sin, past[2 * i], past[2 * i + 1])
            outs += [k, v]
        return (self.lm_head(self.norm(x)), *outs)


class Vision(nn.Module):
    """Patch conv -> LayerNorm -> MLP projector to the decoder width; one token per patch."""

    def __init__(self, v, d):
        super().__init__()
        self.patch = v["patchSize"]
        self.conv = nn.Conv2d(3, 48, kernel_size=self.patch, stride=self.patch)
        self.ln = nn.LayerNorm(48)
        self.p1 = nn.Linear(48, d)
        self.p2 = nn.Linear(d, d)

    def forward(self, pixel_values):
        x = self.conv(pixel_values).flatten(2).transpose(1, 2)  # [F, tokens, 48]
        return self.p2(F.gelu(self.p1(self.ln(x))))


# ---------------------------------------------------------------- export + references
def export(module, args, path, inputs, outputs, axes):
    kw = dict(input_names=inputs, output_names=outputs, dynamic_axes=axes, opset_version=17)
    try:
        torch.onnx.export(module, args, path, dynamo=False, **kw)
    except Exception as err:  # TorchScript exporter gone in this torch: use the dynamo one
        print("legacy export failed, trying dynamo:", repr(err)[:300])
        torch.onnx.export(module, args, path, dynamo=True, external_data=False, **kw)
    import onnx

    onnx.checker.check_model(onnx.load(path))


def flat(t):
    return [float(x) for x in t.detach().reshape(-1).tolist()]


def build(out_root, name, layers, tok, seed):
    torch.manual_seed(seed)
    out = os.path.join(out_root, name)
    os.makedirs(out, exist_ok=True)
    dec_c = dict(hiddenSize=64, numLayers=layers, numHeads=4, numKvHeads=2, headDim=16, intermediateSize=128,
                 vocabSize=tok.get_vocab_size(), rmsNormEps=1e-5, maxPositions=4096)
    rope = dict(theta=10000.0, headDim=16, style="half", angleDtype="float64", keysCachedAfterRope=True)
    vis_c = dict(imageWidth=32, imageHeight=32, patchSize=16, framesPerSecond=2, tokensPerFrame=4,
                 mean=[0.5, 0.5, 0.5], std=[0.5, 0.5, 0.5])
    dec, vis = Decoder(dec_c, rope).eval(), Vision(vis_c, dec_c["hiddenSize"]).eval()
    embed = torch.randn(dec_c["vocabSize"], dec_c["hiddenSize"])
    L, kv, hd = layers, dec_c["numKvHeads"], dec_c["headDim"]

    # vision
    fr = torch.rand(2, 3, 32, 32) * 2 - 1
    export(vis, (fr,), os.path.join(out, "vision.onnx"), ["pixel_values"], ["visual_embeds"], {"pixel_values": {0: "F"}, "visual_embeds": {0: "F"}})
    with torch.no_grad():
        vref = vis(fr)

    # decoder: export with P=2, T=3 so neither axis is specialised
    kv_in = [f"past_{n}_{i}" for i in range(L) for n in ("key", "value")]
    kv_out = [f"new_{n}_{i}" for i in range(L) for n in ("key", "value")]
    axes = {"inputs_embeds": {1: "T"}, "position_ids": {1: "T"}, "logits": {1: "T"}}
    axes.update({n: {1: "P"} for n in kv_in})
    axes.update({n: {1: "T"} for n in kv_out})
    ex = (torch.randn(1, 3, 64), torch.arange(2, 5).unsqueeze(0)) + tuple(torch.randn(1, 2, kv, hd) for _ in kv_in)
    export(dec, ex, os.path.join(out, "decoder.onnx"), ["inputs_embeds", "position_ids"] + kv_in, ["logits"] + kv_out, axes)

    ids_a = tok.encode("<|user|>Time=3-4 s<|assistant|> Goal!").ids
    ids_b = tok.encode(" Silva passes").ids
    empty = [torch.zeros(1, 0, kv, hd) for _ in kv_in]
    with torch.no_grad():
        pos_a = torch.arange(len(ids_a)).unsqueeze(0)
        ra = dec(embed[ids_a].unsqueeze(0), pos_a, *empty)
        pos_b = torch.arange(len(ids_a), len(ids_a) + len(ids_b)).unsqueeze(0)
        rb = dec(embed[ids_b].unsqueeze(0), pos_b, *ra[1:])
        # shifted positions: the same tokens numbered from 100 (for the RoPE re-index fixture)
        rs = dec(embed[ids_a].unsqueeze(0), pos_a + 100, *empty)

    check_ort(out, fr, vref, embed, ids_a, ids_b, ra, rb, L)
    embed.numpy().astype("<f4").tofile(os.path.join(out, "embed_tokens.bin"))
    tok.save(os.path.join(out, "tokenizer.json"))
    with open(os.path.join(out, "tokenizer_config.json"), "w") as f:
        json.dump({"tokenizer_class": "PreTrainedTokenizerFast", "add_bos_token": False, "add_eos_token": False,
                   "eos_token": "<|end|>", "pad_token": "<|pad|>"}, f)
    vis_cfg = {k: v for k, v in vis_c.items() if k != "patchSize"}
    config = {"format": "sightline-streaming-vlm", "formatVersion": 1, "name": name, "decoder": dec_c, "rope": rope,
              "kv": {"layout": "seq-major", "dtype": "float32"},
              "embeddings": {"file": "embed_tokens.bin", "dtype": "float32"}, "vision": vis_cfg, "chat": CHAT,
              "generation": {"maxTokensPerSecond": 20, "temperature": 0.9, "topP": 0.9, "repetitionPenalty": 1.05},
              "runtime": {"executionProvider": "cpu"}}
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    texts = ["<|user|>Time=12-13 s", " ...", " Goal! Silva shoots past Kim.<|end|>", CHAT["defaultPrompt"], "héllo wörld 42"]
    ref = {
        "tokenizer": [{"text": t, "ids": tok.encode(t).ids} for t in texts],
        "vision": {"shape": list(fr.shape), "pixel_values": flat(fr), "outShape": list(vref.shape), "visual_embeds": flat(vref)},
        "stepA": step_ref(ids_a, pos_a, ra, L),
        "stepB": step_ref(ids_b, pos_b, rb, L),
        "stepShifted": step_ref(ids_a, pos_a + 100, rs, L),
    }
    with open(os.path.join(out, "reference.json"), "w") as f:
        json.dump(ref, f)
    print(name, "ok", {f: os.path.getsize(os.path.join(out, f)) for f in os.listdir(out)})


def step_ref(ids, pos, r, L):
    d = {"ids": ids, "positions": pos.reshape(-1).tolist(), "logitsShape": list(r[0].shape), "logits": flat(r[0])}
    for i in range(L):
        d[f"new_key_{i}"] = flat(r[1 + 2 * i])
        d[f"new_value_{i}"] = flat(r[2 + 2 * i])
    d["kvShape"] = list(r[1].shape)
    return d


def check_ort(out, fr, vref, embed, ids_a, ids_b, ra, rb, L):
    import onnxruntime as ort

    vs = ort.InferenceSession(os.path.join(out, "vision.onnx"), providers=["CPUExecutionProvider"])
    dv = np.abs(vs.run(None, {"pixel_values": fr.numpy()})[0] - vref.numpy()).max()
    ds = ort.InferenceSession(os.path.join(out, "decoder.onnx"), providers=["CPUExecutionProvider"])
    kvh = ra[1].shape[2:]
    feeds = {"inputs_embeds": embed[ids_a].unsqueeze(0).numpy(), "position_ids": np.arange(len(ids_a))[None].astype(np.int64)}
    for i in range(L):
        feeds[f"past_key_{i}"] = np.zeros((1, 0) + tuple(kvh), np.float32)
        feeds[f"past_value_{i}"] = np.zeros((1, 0) + tuple(kvh), np.float32)
    oa = ds.run(None, feeds)
    da = max(np.abs(o - r.numpy()).max() for o, r in zip(oa, ra))
    feeds = {"inputs_embeds": embed[ids_b].unsqueeze(0).numpy(),
             "position_ids": np.arange(len(ids_a), len(ids_a) + len(ids_b))[None].astype(np.int64)}
    for i in range(L):
        feeds[f"past_key_{i}"], feeds[f"past_value_{i}"] = oa[1 + 2 * i], oa[2 + 2 * i]
    ob = ds.run(None, feeds)
    db = max(np.abs(o - r.numpy()).max() for o, r in zip(ob, rb))
    print(f"ort vs torch: vision {dv:.2e} stepA {da:.2e} stepB {db:.2e}")
    assert max(dv, da, db) < 1e-4, "exported graph does not match PyTorch"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    torch.set_grad_enabled(False)
    tok = make_tokenizer(384, args.seed)
    build(args.out, "tiny-random-1l", 1, tok, args.seed)
    build(args.out, "tiny-random-2l", 2, tok, args.seed + 1)


if __name__ == "__main__":
    main()
