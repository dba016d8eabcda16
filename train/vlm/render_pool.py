"""Render training matches into a folder that one or more trainers read (`train.py --match-dir`).

    python3 -m train.vlm.render_pool --stage 5 --out /dev/shm/matches --workers 14

Writes the validation matches first (val-SEED.npz), then the stage's training seeds in order (SEED.npz),
each atomically (a trainer never reads half a file), keeping at most --keep training files on disk. Seeds
already rendered there are skipped, so a second call on a warm machine carries on where the first stopped.
Several trainers can then compare settings on exactly the same fresh data, and a new call starts training
at once from the matches the last one left behind.
"""
import argparse
import json
import os
import tempfile
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from .data import render_job, render_match
from .config import stage_config


def save_match(m: dict, path: str) -> None:
    tmp = path + ".part"
    with open(tmp, "wb") as f:
        np.savez(f, frames=m["frames"], texts=json.dumps(m["texts"]), events=json.dumps(m["events"]))
    os.replace(tmp, path)


def load_match(path: str) -> dict:
    with np.load(path) as z:
        return {"frames": z["frames"], "texts": json.loads(str(z["texts"])), "events": json.loads(str(z["events"]))}


def training_files(folder: str) -> list[str]:
    """Finished training matches in seed order."""
    names = [n for n in os.listdir(folder) if n.endswith(".npz") and n[0].isdigit()]
    return [os.path.join(folder, n) for n in sorted(names, key=lambda n: int(n.split(".")[0]))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default="train/configs/vlm.json")
    ap.add_argument("--stage", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--workers", type=int, default=max(1, (os.cpu_count() or 8) - 2))
    ap.add_argument("--keep", type=int, default=300, help="training files kept on disk (oldest removed)")
    ap.add_argument("--from", dest="first", type=int, help="first training seed (a later call on a fresh machine skips what earlier calls used)")
    args = ap.parse_args()
    # The stage's override may change rendering (stage 6: matches that start from a given score).
    cfg = stage_config(args.config, args.stage)
    lo, hi = cfg["seeds"][cfg["stages"][str(args.stage)]["trainSeeds"]]
    if args.first is not None:
        if not lo <= args.first <= hi:
            raise SystemExit(f"--from {args.first}: outside the stage's training seeds {lo}-{hi}")
        lo = args.first
    vlo, vhi = cfg["seeds"]["val"]
    os.makedirs(args.out, exist_ok=True)
    tmp = tempfile.mkdtemp()
    jobs = [(os.path.join(args.out, f"val-{s}.npz"), s) for s in range(vlo, vhi + 1)]
    jobs += [(os.path.join(args.out, f"{s}.npz"), s) for s in range(lo, hi + 1)]
    done_log = os.path.join(args.out, "rendered.txt")
    done = set(open(done_log).read().split()) if os.path.exists(done_log) else set()
    jobs = [(p, s) for p, s in jobs if os.path.basename(p) not in done]
    # Niced, so rendering yields the CPU to the training loops that feed the GPU.
    with ProcessPoolExecutor(args.workers, initializer=os.nice, initargs=(10,)) as pool:
        futures = [(p, pool.submit(render_match, render_job(s, cfg, tmp))) for p, s in jobs]
        for path, fut in futures:
            save_match(fut.result(), path)
            with open(done_log, "a") as f:
                f.write(os.path.basename(path) + "\n")
            for old in training_files(args.out)[: -args.keep]:
                os.remove(old)


if __name__ == "__main__":
    main()
