"""A training checkpoint with its weights in fp16, as one file: four trainers' checkpoints then fit what one
device call returns (8 files of 16 MiB, 64 MiB in all), where fp32 needs two files each. Resuming or exporting
it loads the weights back into fp32 parameters (the rounding is far below what training moves them).

    python3 -m train.vlm.pack_checkpoint /root/keep/a/vlm.ckpt $OUT/a/vlm16.ckpt   # writes $OUT/a/vlm16.ckpt.000
"""
import argparse

import torch

from .modeling import read_checkpoint


def half(state: dict) -> dict:
    return {k: v.half() if torch.is_floating_point(v) else v for k, v in state.items()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("checkpoint", help="path prefix: reads PREFIX.000, PREFIX.001, ...")
    ap.add_argument("out", help="path prefix: writes PREFIX.000, which read_checkpoint reads")
    a = ap.parse_args()
    ckpt = read_checkpoint(a.checkpoint)
    ckpt["decoder"], ckpt["vision"] = half(ckpt["decoder"]), half(ckpt["vision"])
    ckpt["heads"] = {k: half(v) for k, v in ckpt.get("heads", {}).items()}
    torch.save(ckpt, a.out + ".000")


if __name__ == "__main__":
    main()
