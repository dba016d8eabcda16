"""Train the streaming VLM from scratch (or resume), then export it.

    python3 -m train.vlm.train --out OUT1                                  # stage 1 (5 min on an H200)
    python3 -m train.vlm.train --stage 2 --resume OUT1/vlm.ckpt --out OUT2  # stage 2: fresh matches, context noise
    python3 -m train.vlm.train --stage 3 --resume OUT1/vlm.ckpt --out OUT3  # stage 3: matches rendered while training
    python3 -m train.vlm.train --stage 4 --resume OUT3/vlm.ckpt --out OUT4  # stage 4: more of it, plain loss (v2)
    python3 -m train.vlm.train --stage 5 --resume OUT4/vlm.ckpt --match-dir DIR --out OUT5  # v3; stages 5-7 (v4): see scripts/train-many.sh
    python3 -m train.vlm.train --stage 7 --resume CKPT --match-dir DIR --out OUT --set decoder.numLayers=8  # grow it

Runs on the GPU machine (device tool): renders the matches with the carried node + built synth, trains
for a time budget (device commands stop at 10 minutes), saves OUT/vlm.ckpt (resume from it in the next
call) and exports OUT/model/ in the layout of docs/model-format.md.
"""
import argparse
import io
import json
import math
import os
import random
import tempfile
import time

import numpy as np
import torch
import torch.nn.functional as F

from ..parts import tar_dir_to_parts, write_parts
from .config import checkpoint_config, stage_config
from .data import CHAT, GOAL_COMPLETION, KIT_COLOURS, Layout, event_targets, lagged_commentary, possession_targets, render_matches, train_tokenizer
from .export import export_model
from .modeling import build_model, count_params, load_grown, read_checkpoint


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


class Batcher:
    """Random windows of whole seconds; frames live on the GPU as uint8, normalised per batch."""

    def __init__(self, matches, layout: Layout, cfg: dict, device: str, rng: random.Random, augment: bool):
        self.layout, self.cfg, self.device, self.rng, self.augment = layout, cfg, device, rng, augment
        self.texts, self.frames, self.targets, self.possession = [], [], [], []
        for m in matches:
            self.add(m)
        v = cfg["vision"]
        self.fps = v["framesPerSecond"]
        self.mean = torch.tensor(v["mean"], device=device).view(1, 3, 1, 1)
        self.std = torch.tensor(v["std"], device=device).view(1, 3, 1, 1)

    def add(self, m: dict) -> None:
        self.texts.append(lagged_commentary(m["texts"], m["events"], queue=self.cfg.get("targets", {}).get("queue", False)))
        self.frames.append(torch.from_numpy(m["frames"]).to(self.device))
        self.targets.append(torch.from_numpy(event_targets(m["events"], len(m["texts"]))).to(self.device))
        fps = self.cfg["vision"]["framesPerSecond"]
        self.possession.append(torch.from_numpy(possession_targets(m["events"], len(m["frames"]), fps)).to(self.device))

    def drop_oldest(self) -> None:
        for part in (self.texts, self.frames, self.targets, self.possession):
            part.pop(0)

    def pixels(self, frames_u8: torch.Tensor) -> torch.Tensor:
        x = frames_u8.permute(0, 3, 1, 2).float() / 255.0
        return (x - self.mean) / self.std

    def sample(self, batch_size: int, seconds=None, start=None, match=None):
        lo, hi = self.cfg["layout"]["windowSeconds"]
        seqs, frames, targets, possession = [], [], [], []
        for _ in range(batch_size):
            m = self.rng.randrange(len(self.texts)) if match is None else match
            n = len(self.texts[m])
            w = seconds or self.rng.randint(lo, hi)
            s = self.rng.randint(0, n - w) if start is None else start
            seqs.append(self.layout.window_ids(self.texts[m], s, w, self.rng if self.augment else None))
            frames.append(self.frames[m][s * self.fps : (s + w) * self.fps])
            targets.append(self.targets[m][s : s + w])
            possession.append(self.possession[m][s * self.fps : (s + w) * self.fps])
        length = max(len(ids) for ids, *_ in seqs)
        pad = self.layout.ids["<|pad|>"]
        ids = torch.full((batch_size, length), pad, dtype=torch.long)
        labels = torch.full((batch_size, length), -100, dtype=torch.long)
        goal = torch.zeros((batch_size, length))
        for b, (i, l, g) in enumerate(seqs):
            ids[b, : len(i)] = torch.tensor(i)
            labels[b, : len(l)] = torch.tensor(l)
            goal[b, : len(g)] = torch.tensor(g)
        return (ids.to(self.device), labels.to(self.device), self.pixels(torch.cat(frames)), targets, torch.cat(possession),
                goal.to(self.device))


class EventHead(torch.nn.Module):
    """Training only: reads the visual tokens of a round and the round before and predicts which events
    (type x kit colour) became visible, so the vision encoder learns the action, not just the text prior."""

    def __init__(self, d: int, n_out: int):
        super().__init__()
        self.mix = torch.nn.TransformerEncoderLayer(d, 4, 2 * d, batch_first=True, norm_first=True)
        self.out = torch.nn.Linear(d, n_out)

    def forward(self, vis_rounds):  # [R, 2 * tokens, D]
        return self.out(self.mix(vis_rounds).mean(1))


class PossessionHead(torch.nn.Module):
    """Training only: from one frame's visual tokens, the kit colour of the team on the ball (or none). A dense
    signal on every frame, where events are rare: a tackle or an interception is this answer changing."""

    def __init__(self, d: int, n_out: int):
        super().__init__()
        self.out = torch.nn.Sequential(torch.nn.Linear(d, d), torch.nn.GELU(), torch.nn.Linear(d, n_out))

    def forward(self, frame_tokens):  # [F, tokensPerFrame, D]
        return self.out(frame_tokens.mean(1))


def forward(decoder, vision, layout, ids, pixels, head=None, targets=None, poss_head=None, possession=None):
    emb = decoder.embed(ids)
    vis_tokens = vision(pixels)
    vis = vis_tokens.reshape(-1, emb.shape[-1]).to(emb.dtype)
    mask = ids == layout.vision
    emb = emb.masked_scatter(mask.unsqueeze(-1), vis)
    pos = torch.arange(ids.shape[1], device=ids.device).unsqueeze(0).expand_as(ids)
    logits = decoder.forward_train(emb, pos)
    if head is None:
        return logits
    per_round = vis.reshape(-1, layout.vis_per_second, emb.shape[-1])
    pairs, ys, r = [], [], 0
    for t in targets:  # rounds of one window, in order
        w = t.shape[0]
        pairs.append(torch.cat([per_round[r : r + w - 1], per_round[r + 1 : r + w]], dim=1))
        ys.append(t[1:])
        r += w
    aux = F.binary_cross_entropy_with_logits(head(torch.cat(pairs)).float(), torch.cat(ys))
    poss = F.cross_entropy(poss_head(vis_tokens).float(), possession) if poss_head is not None else aux.new_zeros(())
    return logits, aux, poss


def loss_of(logits, labels, first_token_weight: float = 1.0, token_weights=None):
    """Next-token loss over the commentary. `first_token_weight` > 1 weights each round's first answer token
    (speak or stay silent, and with what: the decision evaluation scores) above the wording that follows;
    `token_weights` (the batcher's, per label) scales whole rounds, such as goals."""
    target = labels[:, 1:]
    ce = F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]).float(), target.reshape(-1), ignore_index=-100, reduction="none")
    first = ((target != -100) & (labels[:, :-1] == -100)).reshape(-1)
    w = (target.reshape(-1) != -100).float() + (first_token_weight - 1.0) * first.float()
    if token_weights is not None:
        w = w * token_weights[:, 1:].reshape(-1)
    return (ce * w).sum() / w.sum().clamp(min=1.0)


class FreshMatches:
    """Renders training matches in background processes while the GPU trains, so every step can draw on
    play the model has not seen yet (with a fixed set the validation loss rose as training went on). Each
    finished match joins the batcher and the oldest leaves once `keep` are loaded."""

    def __init__(self, seeds, cfg: dict, tmp: str, workers: int, keep: int):
        from concurrent.futures import ProcessPoolExecutor

        from .data import render_job, render_match

        # Niced, so rendering yields the CPU to the training loop that feeds the GPU.
        self.pool = ProcessPoolExecutor(workers, initializer=os.nice, initargs=(10,))
        self.futures = [self.pool.submit(render_match, render_job(s, cfg, tmp)) for s in seeds]
        self.keep, self.added = keep, 0

    def feed(self, batcher: "Batcher", wait_for: int = 0) -> None:
        while self.futures and (self.futures[0].done() or self.added < wait_for):
            batcher.add(self.futures.pop(0).result())
            self.added += 1
            if len(batcher.texts) > self.keep:
                batcher.drop_oldest()

    def close(self) -> None:
        for f in self.futures:
            f.cancel()
        self.pool.shutdown(wait=False, cancel_futures=True)


class FolderMatches:
    """Training matches rendered by `train.vlm.render_pool` into a folder, which several trainers can share
    (an A/B comparison on exactly the same fresh data). Same contract as FreshMatches."""

    def __init__(self, folder: str, keep: int, per_feed: int):
        self.folder, self.keep, self.per_feed, self.seen, self.added = folder, keep, per_feed, set(), 0

    def feed(self, batcher: "Batcher", wait_for: int = 0) -> None:
        from .render_pool import load_match, training_files

        while True:
            new = [p for p in training_files(self.folder) if p not in self.seen]
            if len(self.seen) + len(new) >= wait_for:
                break
            time.sleep(1)
        self.seen.update(new)
        # The first fill takes up to `keep` (a warm folder may hold more: the newest); later feeds at most
        # `per_feed` (the newest; a stage's newMatchesPerFeed, else `keep`). A cap buys steps (stage 8: 261
        # a minute capped at 8 against about 200 uncapped) but repeats matches, and it lost on validation
        # loss (0.1688 against 0.1628), so no stage sets it (docs/commentator-model.md, stage 8).
        for path in new[-(self.keep if wait_for else self.per_feed) :]:
            try:
                batcher.add(load_match(path))
            except FileNotFoundError:  # the renderer removed it meanwhile
                continue
            self.added += 1
            if len(batcher.texts) > self.keep:
                batcher.drop_oldest()

    def close(self) -> None:
        pass


def folder_val_matches(folder: str, seeds: list[int]) -> list[dict]:
    from .render_pool import load_match

    paths = [os.path.join(folder, f"val-{s}.npz") for s in seeds]
    while not all(os.path.exists(p) for p in paths):
        time.sleep(1)
    return [load_match(p) for p in paths]


@torch.no_grad()
def validate(decoder, vision, layout, batcher, silence_first: int) -> dict:
    """Teacher-forced loss, the per-second speak/silence decision at the first commentary token, and the goal
    rounds' own loss (whole answer, and completion only)."""
    decoder.eval(); vision.eval()
    losses, goal_losses, completion_losses, decisions, correct, goals = [], [], [], 0, 0, 0
    for m in range(len(batcher.texts)):
        for start in range(0, len(batcher.texts[m]) - 16, 64):
            ids, labels, pixels, _, _, goal_marks = batcher.sample(1, seconds=16, start=start, match=m)
            with torch.autocast("cuda", dtype=torch.bfloat16):
                logits = forward(decoder, vision, layout, ids, pixels)
            losses.append(loss_of(logits, labels).item())  # unweighted, so trainers with other weights compare
            first = (labels[0, 1:] != -100) & (labels[0, :-1] == -100)  # first answer token of each round
            pred = logits[0, :-1].argmax(-1)[first]
            truth = labels[0, 1:][first]
            decisions += int(first.sum())
            correct += int(((pred == silence_first) == (truth == silence_first)).sum())
            goals += int((goal_marks[0, 1:][first] > 0).sum())
            if goal_marks.sum() > 0:  # how sure of the goal lines, unweighted: the goal rounds' own loss
                goal_losses.append(loss_of(logits, labels.masked_fill(goal_marks == 0, -100)).item())
                # ... and of their completions alone (after "It's in!" and the like: scorer, team, score)
                completion_losses.append(loss_of(logits, labels.masked_fill(goal_marks != GOAL_COMPLETION, -100)).item())
    decoder.train(); vision.train()
    mean = lambda xs: float(np.mean(xs)) if xs else None
    return {"loss": float(np.mean(losses)), "speakSilenceAcc": correct / max(decisions, 1),
            "goalRounds": goals, "goalLoss": mean(goal_losses), "goalCompletionLoss": mean(completion_losses)}


def save(out, decoder, vision, step, rng, tok, val, heads):
    """Checkpoint as OUT/vlm.ckpt.NNN parts (weights only: Adam moments would triple the size past what
    the device tool returns; a resumed run restarts them under a short warm-up)."""
    os.makedirs(out, exist_ok=True)
    buf = io.BytesIO()
    torch.save({"decoder": decoder.state_dict(), "vision": vision.state_dict(), "step": step,
                "architecture": {"decoder": decoder.c, "vision": vision.v},
                "heads": {k: h.state_dict() for k, h in heads.items() if h is not None},
                "rng": rng.getstate(), "tokenizer": tok.to_str(), "val": val}, buf)
    write_parts(buf.getvalue(), os.path.join(out, "vlm.ckpt"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default="train/configs/vlm.json")
    ap.add_argument("--out", required=True)
    ap.add_argument("--resume", help="checkpoint path prefix: reads PREFIX.000, PREFIX.001, ...")
    ap.add_argument("--minutes", type=float, help="training time budget (default: the stage's, in the config)")
    ap.add_argument("--train-matches", type=int, help="fewer matches for a quick check")
    ap.add_argument("--stage", type=int, default=1,
                    help="a key of the config's stages: 2 resumes on fresh matches; 3 and later on matches rendered during training")
    ap.add_argument("--match-dir", help="read the matches train.vlm.render_pool writes there instead of rendering them here")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=JSON",
                    help="override a config value, e.g. --set vision.detailBranch=false (repeatable)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 8)
    args = ap.parse_args()
    try:
        # A stage may change the model or the optimiser (its "override"); --set changes one value for a run.
        cfg = stage_config(args.config, args.stage, args.set)
    except KeyError as e:
        ap.error(f"--{e.args[0]}")
    t_start = time.time()
    torch.manual_seed(cfg["seed"])
    rng = random.Random(cfg["seed"])
    device = "cuda"
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True

    stage = cfg["stages"][str(args.stage)]
    minutes = args.minutes or stage["minutes"]
    lo, hi = cfg["seeds"][stage["trainSeeds"]]
    train_seeds = list(range(lo, hi + 1))[: args.train_matches or None]
    val_seeds = list(range(cfg["seeds"]["val"][0], cfg["seeds"]["val"][1] + 1))
    tmp = tempfile.mkdtemp()
    fresh = None
    if stage.get("onTheFly") and not args.resume:
        ap.error("a stage that renders during training resumes a checkpoint (its tokenizer comes from there)")
    if stage.get("onTheFly") and args.match_dir:
        val_matches = folder_val_matches(args.match_dir, val_seeds)
        fresh = FolderMatches(args.match_dir, stage["keepMatches"], stage.get("newMatchesPerFeed", stage["keepMatches"]))
        train_matches = []
    elif stage.get("onTheFly"):
        val_matches = render_matches(val_seeds, cfg, tmp, args.workers)
        fresh = FreshMatches(train_seeds, cfg, tmp, max(1, args.workers - 2), stage["keepMatches"])
        train_matches = []
    else:
        train_matches = render_matches(train_seeds, cfg, tmp, args.workers)
        val_matches = render_matches(val_seeds, cfg, tmp, args.workers)
    n_sec = sum(len(m["texts"]) for m in train_matches)
    log(f"rendered {len(train_matches)} train matches ({n_sec} s) and {len(val_matches)} val in {time.time() - t_start:.0f}s")

    ckpt = read_checkpoint(args.resume) if args.resume else None
    if ckpt:
        cfg = checkpoint_config(cfg, ckpt, args.set)
        from tokenizers import Tokenizer

        tok = Tokenizer.from_str(ckpt["tokenizer"])
    else:
        tok = train_tokenizer([t for m in train_matches for t in m["texts"]], cfg["tokenizer"]["vocabSize"])
    layout = Layout(tok, cfg)
    layout.context_dropout, layout.colour_noise = stage["contextDropout"], stage["contextColourNoise"]
    decoder, vision = (m.to(device) for m in build_model(cfg, tok.get_vocab_size()))
    d = cfg["decoder"]["hiddenSize"]
    head = EventHead(d, event_targets([], 1).shape[1]).to(device)
    poss_weight = cfg["optim"].get("possessionLossWeight", 0.0)
    poss_head = PossessionHead(d, len(KIT_COLOURS) + 1).to(device) if poss_weight else None
    heads = {"events": head, "possession": poss_head}
    params = [p for m in (decoder, vision, head, poss_head) if m is not None for p in m.parameters()]
    opt = torch.optim.AdamW(params, lr=cfg["optim"]["lr"], weight_decay=cfg["optim"]["weightDecay"], betas=(0.9, 0.95))
    step = 0
    if ckpt:
        trained = load_grown(decoder, vision, ckpt, args.resume)
        if len(decoder.layers) > trained:
            log(f"decoder grown from {trained} to {len(decoder.layers)} layers (new layers start as the identity)")
        for name, h in heads.items():
            if h is not None and name in ckpt.get("heads", {}):
                h.load_state_dict(ckpt["heads"][name])
        step = ckpt["step"]
        rng.setstate(ckpt["rng"])
    log(f"params: decoder {count_params(decoder):,} vision {count_params(vision):,}; resuming at step {step}")

    train_batches = Batcher(train_matches, layout, cfg, device, rng, augment=True)
    if fresh:
        fresh.feed(train_batches, wait_for=stage["startMatches"])
        log(f"training starts with {len(train_batches.texts)} matches rendered on the fly")
    first_weight = stage.get("firstTokenWeight", 1.0)
    goal_weight = stage.get("goalRoundWeight", 1.0)  # > 1: a goal round's answer counts that many tokens' worth
    # > 1: only the completion of a goal line (after its opening) counts more, so the model learns to finish
    # a goal call it has started without being pushed to start more of them (goalRoundWeight did that).
    completion_weight = stage.get("goalCompletionWeight", 1.0)
    peak_lr = stage.get("lr", cfg["optim"]["lr"])
    val_batches = Batcher(val_matches, layout, cfg, device, random.Random(0), augment=False)
    silence_first = tok.encode(CHAT["silence"]).ids[0]
    warm = cfg["optim"]["warmupSteps"]
    budget = minutes * 60
    first_step = step
    t_train = time.time()
    while time.time() - t_train < budget:
        # Cosine over this call's time budget (one cycle per device call; a resumed call warms up again).
        frac = min(1.0, (time.time() - t_train) / budget)
        lr = peak_lr * min(1.0, (step - first_step + 1) / warm) * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * frac)))
        for g in opt.param_groups:
            g["lr"] = lr
        ids, labels, pixels, targets, possession, goal_marks = train_batches.sample(cfg["optim"]["batchSize"])
        with torch.autocast("cuda", dtype=torch.bfloat16):
            logits, aux, poss = forward(decoder, vision, layout, ids, pixels, head, targets, poss_head, possession)
            weights = 1.0 + (goal_weight - 1.0) * (goal_marks > 0) + (completion_weight - 1.0) * (goal_marks == GOAL_COMPLETION)
            lm = loss_of(logits, labels, first_weight, weights)
            loss = lm + cfg["optim"]["eventLossWeight"] * aux + poss_weight * poss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, cfg["optim"]["gradClip"])
        opt.step()
        step += 1
        if fresh and step % 50 == 0:
            fresh.feed(train_batches)
        if step % 200 == 0:
            seen = f" matches {fresh.added}" if fresh else ""
            log(f"step {step} lm {lm.item():.4f} events {aux.item():.4f} possession {poss.item():.4f} lr {lr:.2e}{seen}")
        if step % 1000 == 0:
            log(f"val {validate(decoder, vision, layout, val_batches, silence_first)}")
            save(args.out, decoder, vision, step, rng, tok, None, heads)
    if fresh:
        fresh.close()
        train_matches, n_sec = range(fresh.added), fresh.added * cfg["matchSeconds"]
    val = validate(decoder, vision, layout, val_batches, silence_first)
    log(f"final step {step} val {val}")
    save(args.out, decoder, vision, step, rng, tok, val, heads)
    model_dir = os.path.join(tempfile.mkdtemp(), cfg["name"])
    diffs = export_model(decoder, vision, tok, cfg, model_dir)
    tar_dir_to_parts(model_dir, os.path.join(args.out, "model.tar"))
    with open(os.path.join(args.out, "train-log.json"), "w") as f:
        json.dump({"step": step, "val": val, "exportMaxAbsDiff": diffs, "trainMatches": len(train_matches),
                   "trainSeconds": n_sec, "wallSeconds": time.time() - t_start}, f, indent=2)
    log("done")


if __name__ == "__main__":
    main()
