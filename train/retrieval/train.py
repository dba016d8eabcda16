"""Train the Prompt-Switch retrieval model and the mean-pooling baseline with the same budget, evaluate both
on held-out clip/caption pairs (MSR-VTT 1k-A protocol) and export both as ONNX.

    python3 -m train.retrieval.train --config train/configs/retrieval.json --out OUT [--minutes 3.5]
"""
import argparse
import json
import math
import os
import random
import tempfile
import time

import numpy as np
import torch
import torch.nn.functional as F

from ..vlm.data import render_matches
from .export import export_retrieval
from .metrics import retrieval_metrics
from .modeling import CaptionHead, TextTower, VideoTower


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def clips_of(matches, cfg):
    """(match index, first frame, caption) per clip; frames sampled at the centres of F equal parts."""
    fps, f = cfg["render"]["fps"], cfg["video"]["framesPerClip"]
    out = []
    for mi, m in enumerate(matches):
        for c in m["captions"]:
            n = int(round((c["end"] - c["start"]) * fps))
            idx = [int(c["start"] * fps + (i + 0.5) * n / f) for i in range(f)]
            if idx[-1] < len(m["frames"]):
                out.append((mi, idx, c["caption"]))
    return out


def train_tokenizer(texts, vocab_size):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<|pad|>", "<|bos|>", "<|eos|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(texts, trainer=trainer)
    return tok


class Data:
    def __init__(self, matches, clips, tok, cfg, device):
        self.frames = [torch.from_numpy(m["frames"]).to(device) for m in matches]
        self.clips, self.tok, self.cfg, self.device = clips, tok, cfg, device
        v = cfg["video"]
        self.mean = torch.tensor(v["mean"], device=device).view(1, 1, 3, 1, 1)
        self.std = torch.tensor(v["std"], device=device).view(1, 1, 3, 1, 1)
        self.max_tokens = cfg["text"]["maxTokens"]
        self.pad, self.bos, self.eos = (tok.token_to_id(s) for s in ("<|pad|>", "<|bos|>", "<|eos|>"))

    def pixels(self, items):
        x = torch.stack([self.frames[mi][idx] for mi, idx, _ in items])  # [B, F, H, W, 3]
        x = x.permute(0, 1, 4, 2, 3).float() / 255.0
        return (x - self.mean) / self.std

    def text(self, items):
        ids = [self.tok.encode(c).ids[: self.max_tokens - 2] for _, _, c in items]
        t = max(len(i) for i in ids) + 2
        out = torch.full((len(ids), t), self.pad, dtype=torch.long)
        for b, i in enumerate(ids):
            out[b, : len(i) + 2] = torch.tensor([self.bos] + i + [self.eos])
        return out.to(self.device), (out != self.pad).long().to(self.device)


def train_one(name, use_cube, data, cfg, steps, device, seed):
    torch.manual_seed(seed)
    rng = random.Random(seed)
    video = VideoTower(cfg["video"], use_cube).to(device)
    text = TextTower(cfg["text"], data.tok.get_vocab_size()).to(device)
    head = CaptionHead(cfg["video"]["width"], data.tok.get_vocab_size(), cfg["text"]["maxTokens"]).to(device)
    scale = torch.nn.Parameter(torch.tensor(math.log(1 / 0.07), device=device))
    params = list(video.parameters()) + list(text.parameters()) + list(head.parameters()) + [scale]
    opt = torch.optim.AdamW(params, lr=cfg["optim"]["lr"], weight_decay=cfg["optim"]["weightDecay"])
    bs, warm = cfg["optim"]["batchSize"], cfg["optim"]["warmupSteps"]
    for step in range(steps):
        lr = cfg["optim"]["lr"] * min(1, (step + 1) / warm) * 0.5 * (1 + math.cos(math.pi * step / steps))
        for g in opt.param_groups:
            g["lr"] = lr
        items = rng.sample(data.clips, bs)
        ids, mask = data.text(items)
        with torch.autocast("cuda", dtype=torch.bfloat16):
            v, memory = video(data.pixels(items), return_prompts=True)
            t = text(ids, mask)
            logits = scale.exp().clamp(max=100) * v.float() @ t.float().T
            target = torch.arange(bs, device=device)
            loss = (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2
            if use_cube:
                cap = head(memory, ids[:, :-1])
                cap_loss = F.cross_entropy(cap.float().reshape(-1, cap.shape[-1]), ids[:, 1:].reshape(-1), ignore_index=data.pad)
                loss = loss + cfg["optim"]["captionLossWeight"] * cap_loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        if step % 250 == 0:
            log(f"{name} step {step} loss {loss.item():.4f}")
    return video.eval(), text.eval()


@torch.no_grad()
def embed_all(video, text, data, items):
    vs, ts = [], []
    for i in range(0, len(items), 100):
        chunk = items[i : i + 100]
        ids, mask = data.text(chunk)
        vs.append(video(data.pixels(chunk)).float())
        ts.append(text(ids, mask).float())
    return torch.cat(vs).cpu().numpy(), torch.cat(ts).cpu().numpy()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default="train/configs/retrieval.json")
    ap.add_argument("--out", required=True)
    ap.add_argument("--steps", type=int)
    ap.add_argument("--train-matches", type=int)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 8)
    args = ap.parse_args()
    cfg = json.load(open(args.config))
    device = "cuda"
    torch.backends.cuda.matmul.allow_tf32 = True
    t0 = time.time()
    tmp = tempfile.mkdtemp()
    lo, hi = cfg["seeds"]["train"]
    train_m = render_matches(list(range(lo, hi + 1))[: args.train_matches or None], cfg, tmp, args.workers)
    lo, hi = cfg["seeds"]["test"]
    test_m = render_matches(list(range(lo, hi + 1)), cfg, tmp, args.workers)
    train_clips = clips_of(train_m, cfg)
    test_clips = clips_of(test_m, cfg)[: cfg["testPairs"]]
    log(f"rendered: {len(train_clips)} train clips, {len(test_clips)} test clips in {time.time() - t0:.0f}s")
    tok = train_tokenizer([c for _, _, c in train_clips], cfg["text"]["vocabSize"])
    train_data = Data(train_m, train_clips, tok, cfg, device)
    test_data = Data(test_m, test_clips, tok, cfg, device)
    steps = args.steps or cfg["optim"]["steps"]
    report = {"trainClips": len(train_clips), "testClips": len(test_clips), "steps": steps}
    for name, use_cube in (("prompt-switch", True), ("mean-pooling", False)):
        t1 = time.time()
        video, text = train_one(name, use_cube, train_data, cfg, steps, device, cfg["seed"])
        v, t = embed_all(video, text, test_data, test_clips)
        report[name] = {"metrics": retrieval_metrics(t @ v.T), "trainSeconds": time.time() - t1}
        log(f"{name}: {report[name]}")
        export_retrieval(video, text, tok, cfg, name, use_cube, os.path.join(args.out, name))
    with open(os.path.join(args.out, "retrieval-report.json"), "w") as f:
        json.dump(report, f, indent=2)
    log("done")


if __name__ == "__main__":
    main()
