#!/usr/bin/env bash
# One device call of commentator training (stage 5 and later, docs/commentator-model.md): several trainers
# read the same freshly rendered matches (train.vlm.render_pool) and differ only in their settings; they are
# spread over the machine's GPUs (trainer i on GPU i mod #GPUs; one trainer does not fill an H100). The one
# with the lowest validation loss is named the winner; every trainer sends back its checkpoint in fp16
# (train.vlm.pack_checkpoint: one file each, so four fit what a call returns; export the graphs here with
# train.vlm.export_checkpoint). The fp32 checkpoints stay in /root/keep/NAME while the machine is warm.
# On the GPU machine, from the checkout root, with .device (scripts/train-bundle.sh) carried:
#   RESUME=.ckpt/vlm.ckpt FROM=105320 STAGE=6 TRAINERS="a b" SET_b="--set decoder.numLayers=6" bash scripts/train-many.sh
# env: RESUME (checkpoint prefix; RESUME_<name> for one trainer, e.g. its own /root/keep/<name>/vlm.ckpt on a
#      warm machine), FROM (first training seed: the last call's log says where it stopped),
#      MIN (training minutes, default 8.6), STAGE (default 5), TRAINERS (names, default "a b"),
#      SET_<name> (that trainer's extra train.vlm.train arguments), WORKERS (render processes)
set -u
STAGE=${STAGE:-5} MIN=${MIN:-8.6} TRAINERS=${TRAINERS:-a b}
source .device/train-env.sh
GPUS=$(nvidia-smi -L | wc -l)
N=$(echo $TRAINERS | wc -w)
# Rendering takes the cores the trainers' Python loops leave (2 each).
WORKERS=${WORKERS:-$(( $(nproc) - 2 * N > 4 ? $(nproc) - 2 * N : 4 ))}
M=/dev/shm/m; mkdir -p $M /root/keep
nvidia-smi --query-gpu=name --format=csv,noheader > $OUT/log.txt
echo "trainers: $TRAINERS on $GPUS GPU(s), $WORKERS render workers" >> $OUT/log.txt
python3 -m train.vlm.render_pool --stage $STAGE --out $M --workers $WORKERS --keep 260 --from $FROM > /tmp/render.log 2>&1 &
RP=$!
i=0; PIDS=()
for x in $TRAINERS; do
  v=SET_$x r=RESUME_$x
  echo "$x: from ${!r:-$RESUME} ${!v:-}" >> $OUT/log.txt
  CUDA_VISIBLE_DEVICES=$(( i % GPUS )) OMP_NUM_THREADS=2 python3 -m train.vlm.train --stage $STAGE --resume ${!r:-$RESUME} \
    --match-dir $M --out /root/keep/$x --minutes $MIN ${!v:-} > /tmp/$x.log 2>&1 &
  PIDS+=($!); i=$((i + 1))
done
wait "${PIDS[@]}"
kill $RP 2>/dev/null
for x in $TRAINERS; do echo "== $x"; cat /tmp/$x.log; cat /root/keep/$x/train-log.json; echo; done >> $OUT/log.txt
tail -5 /tmp/render.log >> $OUT/log.txt; echo "rendered: $(wc -l < $M/rendered.txt), last $(tail -1 $M/rendered.txt)" >> $OUT/log.txt
python3 - $TRAINERS >> $OUT/log.txt <<'PY'
import json, sys
rows = []
for x in sys.argv[1:]:
    try:
        log = json.load(open(f"/root/keep/{x}/train-log.json"))
        rows.append((log["val"]["loss"], x, log["step"], log["val"]["speakSilenceAcc"], log["val"].get("goalLoss"), log["val"].get("goalCompletionLoss")))
    except (OSError, KeyError):
        print(f"{x}: no result (see its log above)")
for loss, x, step, acc, goal, completion in sorted(rows):
    print(f"result {x}: val loss {loss:.4f} speak/silence {acc:.4f} goal loss {goal} completion {completion} step {step}")
print(f"winner {min(rows)[1]}")
PY
W=$(awk '/^winner/ {print $2}' $OUT/log.txt)
echo $W > /root/keep/winner  # a next call on the warm machine can resume /root/keep/$(cat /root/keep/winner)
for x in $TRAINERS; do
  [ -f /root/keep/$x/vlm.ckpt.000 ] && mkdir -p $OUT/$x && python3 -m train.vlm.pack_checkpoint /root/keep/$x/vlm.ckpt $OUT/$x/vlm16.ckpt
done
