"""Check that growing a trained commentator starts from the same function (docs/commentator-model.md,
"Growing a trained model"): the checkpoint as trained and grown by the given settings give the same vision
tokens and decoder logits on random inputs. Runs on CPU.

    python3 -m train.vlm.check_growth CKPT --set decoder.numLayers=8 --set vision.gridBlocks=2
"""
import argparse

import torch

from .config import checkpoint_config, stage_config
from .modeling import build_model, load_grown, read_checkpoint


def build(cfg: dict, ckpt: dict, vocab: int):
    decoder, vision = build_model(cfg, vocab)
    load_grown(decoder, vision, ckpt, "checkpoint")
    return decoder.eval(), vision.eval()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("checkpoint", help="path prefix: reads PREFIX.000, PREFIX.001, ...")
    ap.add_argument("--config", default="train/configs/vlm.json")
    ap.add_argument("--stage", default="7")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=JSON", help="the growth, as train.vlm.train's --set")
    a = ap.parse_args()
    ckpt = read_checkpoint(a.checkpoint)
    vocab = ckpt["decoder"]["embed.weight"].shape[0]
    base = stage_config(a.config, a.stage)
    trained = build(checkpoint_config(base, ckpt), ckpt, vocab)
    grown = build(checkpoint_config(stage_config(a.config, a.stage, a.set), ckpt, a.set), ckpt, vocab)
    torch.manual_seed(0)
    v = base["vision"]
    pixels = torch.randn(2, 3, v["imageHeight"], v["imageWidth"])
    embeds = torch.randn(1, 12, base["decoder"]["hiddenSize"])
    positions = torch.arange(12).unsqueeze(0)
    with torch.no_grad():
        vision_diff = (trained[1](pixels) - grown[1](pixels)).abs().max().item()
        logits_diff = (trained[0].forward_train(embeds, positions) - grown[0].forward_train(embeds, positions)).abs().max().item()
    print(f"decoder layers {len(trained[0].layers)} -> {len(grown[0].layers)}, vision grid blocks "
          f"{len(trained[1].grid_blocks)} -> {len(grown[1].grid_blocks)}: max difference vision {vision_diff:.3g}, logits {logits_diff:.3g}")


if __name__ == "__main__":
    main()
