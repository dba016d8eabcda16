"""Export a training checkpoint to a model folder (docs/model-format.md) on any machine, CPU included.

    python3 -m train.vlm.export_checkpoint OUT5/vlm.ckpt /tmp/v3 --stage 5

Used when a device call returned a checkpoint and graphs but not the folder's reference.json (the PyTorch
reference outputs test/model/numerics.test.ts checks the graphs against). The stage picks the config
override (its model name and any architecture change) the checkpoint was trained with.
"""
import argparse
import json

from tokenizers import Tokenizer

from .config import checkpoint_config, stage_config
from .export import export_model
from .modeling import build_model, read_checkpoint


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("checkpoint", help="path prefix: reads PREFIX.000, PREFIX.001, ...")
    ap.add_argument("out")
    ap.add_argument("--config", default="train/configs/vlm.json")
    ap.add_argument("--stage", default="1")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=JSON", help="as train.vlm.train's --set")
    a = ap.parse_args()
    ckpt = read_checkpoint(a.checkpoint)
    cfg = checkpoint_config(stage_config(a.config, a.stage, a.set), ckpt, a.set)
    tok = Tokenizer.from_str(ckpt["tokenizer"])
    decoder, vision = build_model(cfg, tok.get_vocab_size())
    decoder.load_state_dict(ckpt["decoder"])
    vision.load_state_dict(ckpt["vision"])
    diffs = export_model(decoder, vision, tok, cfg, a.out)
    print(json.dumps({"step": ckpt["step"], "val": ckpt["val"], "exportMaxAbsDiff": diffs}))


if __name__ == "__main__":
    main()
