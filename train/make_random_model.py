"""Random-weight streaming VLMs with the exact graph interface of docs/model-format.md.

Usage, from the checkout root (GPU machine or any host with torch, onnx, onnxruntime, tokenizers, opencv):
    python3 -m train.make_random_model --out OUT_DIR [--seed 7]

Writes OUT_DIR/tiny-random-1l and OUT_DIR/tiny-random-2l, each with config.json, tokenizer.json,
tokenizer_config.json, embed_tokens.bin, vision.onnx, decoder.onnx and reference.json (PyTorch
outputs for fixed inputs, the numerics fixtures). The exported graphs are checked against PyTorch
with onnxruntime before anything is written out. The decoder is train/vlm/modeling.py's (the shipped
model's) with every weight drawn at random, norms included, in a fixed order (see `randomize`).
"""
import argparse
import json
import os
import random

import torch
import torch.nn as nn
import torch.nn.functional as F

from train.vlm.chat import CHAT
from train.vlm.export import check_ort, export_graph, flat, reference_steps, step_graph_io, step_ref
from train.vlm.modeling import Decoder

SPECIAL = ["<|pad|>", "<|system|>", "<|user|>", "<|assistant|>", "<|end|>"]


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
@torch.no_grad()
def randomize(dec: Decoder) -> None:
    """Redraw every decoder weight in a fixed order: per layer the two RMSNorm weights (1 + 0.1 N(0,1), so
    the fixtures exercise them), then q, k, v, o, gate, up, down with PyTorch's default Linear init; then the
    final norm and the LM head. With the seed set just before, this draws what the committed tiny fixtures
    were made with (they predate this module's use of train/vlm/modeling.py)."""
    def norm(n):
        n.weight.copy_(1.0 + 0.1 * torch.randn(n.weight.shape[0]))

    for layer in dec.layers:
        norm(layer.ln1)
        norm(layer.ln2)
        for lin in (layer.q, layer.k, layer.v, layer.o, layer.gate, layer.up, layer.down):
            lin.reset_parameters()
    norm(dec.norm)
    dec.lm_head.reset_parameters()


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
def build(out_root, name, layers, tok, seed):
    out = os.path.join(out_root, name)
    os.makedirs(out, exist_ok=True)
    dec_c = dict(hiddenSize=64, numLayers=layers, numHeads=4, numKvHeads=2, headDim=16, intermediateSize=128,
                 vocabSize=tok.get_vocab_size(), rmsNormEps=1e-5, maxPositions=4096)
    rope = dict(theta=10000.0, headDim=16, style="half", angleDtype="float64", keysCachedAfterRope=True)
    vis_c = dict(imageWidth=32, imageHeight=32, patchSize=16, framesPerSecond=2, tokensPerFrame=4,
                 mean=[0.5, 0.5, 0.5], std=[0.5, 0.5, 0.5])
    dec = Decoder(dec_c, rope).eval()  # its embedding table is unused: embed_tokens.bin is drawn below
    torch.manual_seed(seed)
    randomize(dec)
    vis = Vision(vis_c, dec_c["hiddenSize"]).eval()
    embed = torch.randn(dec_c["vocabSize"], dec_c["hiddenSize"])
    L, kv, hd = layers, dec_c["numKvHeads"], dec_c["headDim"]

    # vision
    fr = torch.rand(2, 3, 32, 32) * 2 - 1
    export_graph(vis, (fr,), os.path.join(out, "vision.onnx"), ["pixel_values"], ["visual_embeds"], {"pixel_values": {0: "F"}, "visual_embeds": {0: "F"}})
    with torch.no_grad():
        vref = vis(fr)

    inputs, outputs, axes, ex = step_graph_io(L, kv, hd, dec_c["hiddenSize"])
    export_graph(dec, ex, os.path.join(out, "decoder.onnx"), inputs, outputs, axes)

    ids_a = tok.encode("<|user|>Time=3-4 s<|assistant|> Goal!").ids
    ids_b = tok.encode(" Silva passes").ids
    with torch.no_grad():
        (pos_a, ra), (pos_b, rb), (pos_s, rs) = reference_steps(dec, embed, ids_a, ids_b, L, kv, hd)

    check_ort(out, fr, vref, embed, ids_a, ids_b, ra, rb, L)
    embed.numpy().astype("<f4").tofile(os.path.join(out, "embed_tokens.bin"))
    tok.save(os.path.join(out, "tokenizer.json"))
    with open(os.path.join(out, "tokenizer_config.json"), "w") as f:
        json.dump({"tokenizer_class": "PreTrainedTokenizerFast", "add_bos_token": False, "add_eos_token": False,
                   "eos_token": "<|end|>", "pad_token": "<|pad|>"}, f)
    vis_cfg = {k: v for k, v in vis_c.items() if k != "patchSize"}
    config = {"format": "sightline-streaming-vlm", "formatVersion": 2, "name": name, "decoder": dec_c, "rope": rope,
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
        "stepShifted": step_ref(ids_a, pos_s, rs, L),
    }
    with open(os.path.join(out, "reference.json"), "w") as f:
        json.dump(ref, f)
    print(name, "ok", {f: os.path.getsize(os.path.join(out, f)) for f in os.listdir(out)})


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
