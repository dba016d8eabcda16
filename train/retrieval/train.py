"""Train the Prompt-Switch retrieval model and the mean-pooling baseline with the same budget (same data,
seed, batch, schedule and number of steps), evaluate both on held-out clip/caption pairs (MSR-VTT 1k-A
protocol) and export both as ONNX model folders.

    python3 -m train.retrieval.train --out DIR [--ship DIR] [--steps N | --end-by UNIX_TIME]
        [--train-matches N] [--test-matches N] [--caption-version N] [--eval-caption-versions 1,2]

Without --steps, the step count is the config's, or, with --end-by, as many equal steps for both models
as fit before that time (after --reserve seconds for evaluation and export), from a throughput
measurement of both models on the real batch size (only then is throughput measured: it costs ~35 s).

Captions: `render.captionVersion` of the config (default 1; --caption-version overrides it) is what both
models train and are evaluated on. --eval-caption-versions also evaluates the trained models on the same
test clips captioned in other versions (captions simulated by the synth CLI, train/retrieval/captions.py).
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

from ..parts import tar_dir_to_parts
from ..vlm.data import render_matches
from .batches import Batches, same_caption
from .captions import collect_captions, start_captions
from .data import Data, clips_of, unique_captions
from .export import export_retrieval
from .metrics import retrieval_metrics
from .modeling import CaptionHead, TextTower, VideoTower
from .text import train_tokenizer

NAMES = (("prompt-switch", True), ("mean-pooling", False))


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def build(cfg, use_cube, vocab, device):
    video = VideoTower(cfg["video"], use_cube).to(device)
    text = TextTower(cfg["text"], vocab).to(device)
    head = CaptionHead(cfg["video"]["width"], vocab, cfg["text"]["maxTokens"]).to(device) if use_cube else None
    scale = torch.nn.Parameter(torch.tensor(math.log(1 / 0.07), device=device))
    mods = [video, text] + ([head] if head is not None else [])
    decay, no_decay = [], [scale]
    for m in mods:
        for n, p in m.named_parameters():
            (decay if p.dim() >= 2 and "pos" not in n and n not in ("cls", "prompts") else no_decay).append(p)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg["optim"]["weightDecay"]},
                             {"params": no_decay, "weight_decay": 0.0}], lr=cfg["optim"]["lr"], betas=(0.9, 0.98), fused=True)
    return video, text, head, scale, opt, decay + no_decay


def sync(device):
    if str(device).startswith("cuda"):
        torch.cuda.synchronize()


def order_negatives(data, idx, cfg, gen):
    """Rows of the batch whose clip, played backwards, is an extra negative for every caption
    (`optim.orderNegatives` {"clips": n}: up to n rows, chosen at random among those whose caption tells
    events in order). A reversed clip shows the same things as its original, so only a tower that sees
    frame order can tell them apart; to an order-blind tower it is a second copy of a clip already in the
    batch, so the option asks nothing new of it. Empty without the option."""
    n = int((cfg["optim"].get("orderNegatives") or {}).get("clips", 0))
    if n == 0:
        return idx.new_zeros(0)
    rows = torch.nonzero(data.ordered[idx]).squeeze(1)
    pick = torch.randperm(len(rows), device=idx.device, generator=gen)[:n]
    return rows[pick]


def step_fn(video, text, head, scale, opt, params, data, idx, cfg, gen, lr):
    for g in opt.param_groups:
        g["lr"] = lr
    ids, mask = data.text(idx)
    bs = idx.shape[0]
    cuda = idx.device.type == "cuda"
    with torch.autocast(idx.device.type, dtype=torch.bfloat16, enabled=cuda):
        pixels = data.pixels(idx, jitter=True, gen=gen)
        rev = order_negatives(data, idx, cfg, gen)
        if len(rev) > 0 and video.frame_pos_on_tokens:  # frame positions reach the tokens: it can tell frame order
            v, memory = video(torch.cat([pixels, pixels[rev].flip(1)]), return_memory=True)
            v, v_rev, memory = v[:bs], v[bs:], memory[:bs]
        else:  # none reversed, or an order-blind tower, which embeds a reversed clip as the clip itself
            v, memory = video(pixels, return_memory=True)
            v_rev = v[rev]
        t = text(ids, mask)
        logit_scale = scale.exp().clamp(max=100)
        logits = logit_scale * v.float() @ t.float().T
        if cfg["optim"].get("hardNegatives"):
            logits = logits.masked_fill(same_caption(data.caption_id[idx]), float("-inf"))
        target = torch.arange(bs, device=idx.device)
        # Text to video also ranks the reversed clips: each caption must beat every clip played backwards.
        t2v = torch.cat([logits.T, logit_scale * t.float() @ v_rev.float().T], dim=1)
        con = (F.cross_entropy(logits, target) + F.cross_entropy(t2v, target)) / 2
        loss = con
        if head is not None:
            cap = head(memory, ids[:, :-1])
            cap_loss = F.cross_entropy(cap.float().reshape(-1, cap.shape[-1]), ids[:, 1:].reshape(-1), ignore_index=data.pad)
            loss = loss + cfg["optim"]["captionLossWeight"] * cap_loss
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    opt.step()
    return loss, con


def measure(cfg, use_cube, data, vocab, device, warm_seconds=10.0, window=5, max_windows=10):
    """Seconds per training step of a throwaway model: warm-up steps for at least `warm_seconds`, then
    windows of `window` steps until three in a row agree within 15%; the fastest window counts.
    (Both H200 runs measured the cube model at 270-294 ms/step right after the data upload, with 3 and
    with 10 fixed warm-up steps, and then trained at 59-65 ms/step: the slow phase is transient, so a
    fixed step count of warm-up cannot be trusted. The windows are logged.)"""
    torch.manual_seed(0)
    video, text, head, scale, opt, params = build(cfg, use_cube, vocab, device)
    gen = torch.Generator(device=device).manual_seed(0)
    bs = cfg["optim"]["batchSize"]

    def one():
        idx = torch.randint(0, data.n, (bs,), device=device, generator=gen)
        step_fn(video, text, head, scale, opt, params, data, idx, cfg, gen, 1e-4)

    t_start, warm_steps = time.time(), 0
    while warm_steps < 5 or time.time() - t_start < warm_seconds:
        one()
        sync(device)
        warm_steps += 1
    windows = []
    for _ in range(max_windows):
        t0 = time.time()
        for _ in range(window):
            one()
        sync(device)
        windows.append((time.time() - t0) / window)
        if len(windows) >= 3 and max(windows[-3:]) < 1.15 * min(windows[-3:]):
            break
    mem = torch.cuda.max_memory_allocated() / 2**30 if str(device).startswith("cuda") else 0.0
    log(f"measure {'cube' if use_cube else 'mean'}: {warm_steps} warm-up steps in {time.time() - t_start:.1f}s total; "
        f"windows ms/step {[round(w * 1000) for w in windows]}")
    del video, text, head, scale, opt, params
    if str(device).startswith("cuda"):
        torch.cuda.empty_cache()
    return min(windows), mem


def train_one(name, use_cube, data, cfg, steps, vocab, device, seed):
    torch.manual_seed(seed)
    video, text, head, scale, opt, params = build(cfg, use_cube, vocab, device)
    gen = torch.Generator(device=device).manual_seed(seed)
    order = torch.Generator().manual_seed(seed)
    bs = cfg["optim"]["batchSize"]
    warm = max(1, min(cfg["optim"]["warmupSteps"], steps // 8))
    batches = Batches(data.match_of, bs, order, cfg["optim"].get("hardNegatives"))
    t0 = time.time()
    for step in range(steps):
        lr = cfg["optim"]["lr"] * min(1, (step + 1) / warm) * 0.5 * (1 + math.cos(math.pi * step / steps))
        idx = batches.next().to(device, non_blocking=True)
        loss, con = step_fn(video, text, head, scale, opt, params, data, idx, cfg, gen, lr)
        if step % 100 == 0 or step == steps - 1:
            log(f"{name} step {step}/{steps} loss {loss.item():.4f} contrastive {con.item():.4f} "
                f"scale {scale.exp().item():.1f} lr {lr:.2e} {time.time() - t0:.0f}s")
    sync(device)
    return video.eval(), text.eval(), time.time() - t0


@torch.no_grad()
def embed_all(video, text, data, idx_all):
    vs, ts = [], []
    for i in range(0, len(idx_all), 100):
        idx = idx_all[i : i + 100]
        ids, mask = data.text(idx)
        vs.append(video(data.pixels(idx)).float())
        ts.append(text(ids, mask).float())
    return torch.cat(vs).cpu().numpy(), torch.cat(ts).cpu().numpy()


def count(module):
    return sum(p.numel() for p in module.parameters())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default="train/configs/retrieval.json")
    ap.add_argument("--out", required=True, help="model folders and the report go here")
    ap.add_argument("--ship", help="also write <name>.tar.NNN parts and the report here (device $OUT)")
    ap.add_argument("--steps", type=int)
    ap.add_argument("--end-by", type=float, help="unix time by which both models must be trained and exported")
    ap.add_argument("--reserve", type=float, default=75.0, help="seconds kept for evaluation and export")
    ap.add_argument("--train-matches", type=int)
    ap.add_argument("--test-matches", type=int)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 8)
    ap.add_argument("--batch-size", type=int, help="override optim.batchSize (smoke tests)")
    ap.add_argument("--device", default="cuda", help="cuda, or cpu for a smoke test without a GPU (no autocast)")
    ap.add_argument("--caption-version", type=int, choices=(1, 2, 3), help="override render.captionVersion (src/synth captions)")
    ap.add_argument("--eval-caption-versions", default="", help="comma-separated caption versions to evaluate the test clips on as well")
    args = ap.parse_args()
    cfg = json.load(open(args.config))
    if args.batch_size:
        cfg["optim"]["batchSize"] = args.batch_size
    if args.caption_version:
        cfg["render"]["captionVersion"] = args.caption_version
    caption_v = int(cfg["render"].get("captionVersion", 1))
    extra_versions = sorted({int(v) for v in args.eval_caption_versions.split(",") if v.strip()} - {caption_v})
    device = args.device
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    os.makedirs(args.out, exist_ok=True)
    if args.ship:
        os.makedirs(args.ship, exist_ok=True)
    t0 = time.time()
    tmp = tempfile.mkdtemp()
    lo, hi = cfg["seeds"]["train"]
    train_seeds = list(range(lo, hi + 1))[: args.train_matches or None]
    lo, hi = cfg["seeds"]["test"]
    test_seeds = list(range(lo, hi + 1))[: args.test_matches or None]
    # The same test clips under other caption versions: only the captions differ, frames are shared. Truth-only
    # synth runs (~1 s of a core each), started before the render so they finish beside it.
    pending = {v: start_captions(test_seeds, cfg, v, tmp) for v in extra_versions}
    matches = render_matches(train_seeds + test_seeds, cfg, tmp, args.workers)
    extra_caps = {v: collect_captions(p) for v, p in pending.items()}
    train_m, test_m = matches[: len(train_seeds)], matches[len(train_seeds) :]
    render_s = time.time() - t0
    train_clips = clips_of(train_m, cfg)
    all_test = clips_of(test_m, cfg)
    test_clips = unique_captions(all_test, cfg["testPairs"])
    log(f"rendered {len(train_seeds)}+{len(test_seeds)} matches in {render_s:.0f}s: {len(train_clips)} train clips, "
        f"{len(all_test)} test clips, {len(test_clips)} test pairs with unique captions")
    tok = train_tokenizer([c for *_, c in train_clips], cfg["text"]["vocabSize"])
    vocab = tok.get_vocab_size()
    train_data = Data(train_m, train_clips, tok, cfg, device)
    test_data = Data(test_m, test_clips, tok, cfg, device)
    extra_data = {}
    for v, caps in extra_caps.items():
        all_v = clips_of([{**m, "captions": c} for m, c in zip(test_m, caps)], cfg)
        extra_data[v] = test_data.with_clips(unique_captions(all_v, cfg["testPairs"]), tok, cfg), len(all_v)
        log(f"caption version {v}: {len(all_v)} test clips, {extra_data[v][0].n} test pairs with unique captions, "
            f"{extra_data[v][0].cut} cut at maxTokens")
    log(f"caption version {caption_v}; tokenizer vocab {vocab}; captions cut at maxTokens: train {train_data.cut}, test {test_data.cut}; "
        f"frames on GPU {train_data.frames.numel() / 2**30:.1f} + {test_data.frames.numel() / 2**30:.1f} GiB")
    del matches, train_m, test_m

    speed = {}
    for name, use_cube in NAMES if args.end_by and not args.steps else ():
        sec, mem = measure(cfg, use_cube, train_data, vocab, device)
        speed[name] = {"secondsPerStep": sec, "clipsPerSecond": cfg["optim"]["batchSize"] / sec, "peakGiB": mem}
        log(f"throughput {name}: {sec * 1000:.0f} ms/step ({speed[name]['clipsPerSecond']:.0f} clips/s), peak {mem:.1f} GiB")
    if args.steps:
        steps = args.steps
    elif args.end_by:
        budget = args.end_by - time.time() - args.reserve
        steps = int(budget / sum(s["secondsPerStep"] for s in speed.values()))
        steps = max(1, min(steps, cfg["optim"]["steps"]))
        log(f"training budget {budget:.0f}s for both models -> {steps} steps each")
    else:
        steps = cfg["optim"]["steps"]

    test_idx = torch.arange(test_data.n, device=device)
    probe = torch.randperm(train_data.n, generator=torch.Generator().manual_seed(1))[: min(1000, train_data.n)].to(device)
    report = {
        "device": torch.cuda.get_device_name(0) if device.startswith("cuda") else "cpu", "torch": torch.__version__,
        "trainSeeds": [train_seeds[0], train_seeds[-1]], "testSeeds": [test_seeds[0], test_seeds[-1]],
        "trainMatches": len(train_seeds), "testMatches": len(test_seeds),
        "trainClips": len(train_clips), "testClipsRendered": len(all_test), "testPairs": len(test_clips),
        "captionsCut": {"train": train_data.cut, "test": test_data.cut}, "vocab": vocab, "captionVersion": caption_v,
        "otherCaptionVersions": {str(v): {"testClipsRendered": n_all, "testPairs": d.n, "captionsCut": d.cut} for v, (d, n_all) in extra_data.items()},
        "steps": steps, "batchSize": cfg["optim"]["batchSize"], "renderSeconds": render_s, "throughput": speed,
        "config": cfg,
    }

    def write_report():
        for d in [args.out] + ([args.ship] if args.ship else []):
            with open(os.path.join(d, "retrieval-report.json"), "w") as f:
                json.dump(report, f, indent=2)

    for name, use_cube in NAMES:
        video, text, secs = train_one(name, use_cube, train_data, cfg, steps, vocab, device, cfg["seed"])
        v, t = embed_all(video, text, test_data, test_idx)
        pv, pt = embed_all(video, text, train_data, probe)
        report[name] = {"metrics": retrieval_metrics(t @ v.T), "trainSeconds": secs, "trainSecondsPerStep": secs / steps,
                        "trainProbeMetrics": retrieval_metrics(pt @ pv.T),
                        "parameters": {"video": count(video), "text": count(text)}}
        for ver, (d, _) in extra_data.items():
            ev, et = embed_all(video, text, d, torch.arange(d.n, device=device))
            report[name].setdefault("metricsByCaptionVersion", {})[str(ver)] = retrieval_metrics(et @ ev.T)
        log(f"{name}: {json.dumps(report[name])}")
        folder = os.path.join(args.out, name)
        export_retrieval(video, text, tok, cfg, name, use_cube, folder)
        report[name]["files"] = {f: os.path.getsize(os.path.join(folder, f)) for f in sorted(os.listdir(folder))}
        if args.ship:
            parts = tar_dir_to_parts(folder, os.path.join(args.ship, f"{name}.tar"))
            log(f"{name}: shipped {len(parts)} part(s)")
        write_report()
        del video, text
        if device.startswith("cuda"):
            torch.cuda.empty_cache()
    m1, m0 = report["prompt-switch"]["metrics"], report["mean-pooling"]["metrics"]
    report["margin"] = {k: m1[k]["R@1"] - m0[k]["R@1"] for k in m1}
    for ver in extra_data:
        a, b = report["prompt-switch"]["metricsByCaptionVersion"][str(ver)], report["mean-pooling"]["metricsByCaptionVersion"][str(ver)]
        report.setdefault("marginByCaptionVersion", {})[str(ver)] = {k: a[k]["R@1"] - b[k]["R@1"] for k in a}
    write_report()
    log(f"margin R@1 (prompt-switch - mean-pooling), caption version {caption_v}: {report['margin']}; "
        f"other versions: {report.get('marginByCaptionVersion', {})}; total {time.time() - t0:.0f}s")


if __name__ == "__main__":
    main()
