#!/usr/bin/env bash
# Stage 5's device call (docs/commentator-model.md): two trainers, a and b, on one GPU and the same freshly
# rendered matches, differing in SETA / SETB. Now scripts/train-many.sh with two trainers:
#   RESUME=.ckpt/vlm.ckpt FROM=104514 SETB="--set stages.5.lr=0.0003" bash scripts/train-pair.sh
TRAINERS="a b" SET_a="${SETA:-}" SET_b="${SETB:-}" exec bash "$(dirname "$0")/train-many.sh"
