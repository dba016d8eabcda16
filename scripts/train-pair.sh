#!/usr/bin/env bash
# One device call of commentator training (stage 5 and later, docs/commentator-model.md): two trainers share
# the GPU and the same freshly rendered matches (train.vlm.render_pool), differing only in SETA / SETB; the
# one with the lower validation loss sends its checkpoint back, both send their exported graphs.
# On the GPU machine, from the checkout root, with .device (scripts/train-bundle.sh) carried:
#   RESUME=.ckpt/vlm.ckpt FROM=104514 SETB="--set stages.5.lr=0.0003" bash scripts/train-pair.sh
# env: RESUME (checkpoint prefix), FROM (first training seed: the last call's log says where it stopped),
#      MIN (training minutes, default 8.6), STAGE (default 5), SETA / SETB (extra train.vlm.train arguments)
set -u
STAGE=${STAGE:-5} MIN=${MIN:-8.6} SETA=${SETA:-} SETB=${SETB:-}
source .device/train-env.sh
M=/dev/shm/m; mkdir -p $M /root/keep
nvidia-smi --query-gpu=name --format=csv,noheader > $OUT/log.txt
python3 -m train.vlm.render_pool --stage $STAGE --out $M --workers 12 --keep 260 --from $FROM > /tmp/render.log 2>&1 &
RP=$!
python3 -m train.vlm.train --stage $STAGE --resume $RESUME --match-dir $M --out /root/keep/a --minutes $MIN $SETA > /tmp/a.log 2>&1 &
A=$!
python3 -m train.vlm.train --stage $STAGE --resume $RESUME --match-dir $M --out /root/keep/b --minutes $MIN $SETB > /tmp/b.log 2>&1 &
B=$!
wait $A $B
kill $RP 2>/dev/null
for x in a b; do echo "== $x"; cat /tmp/$x.log; done >> $OUT/log.txt
tail -5 /tmp/render.log >> $OUT/log.txt; echo "rendered: $(wc -l < $M/rendered.txt), last $(tail -1 $M/rendered.txt)" >> $OUT/log.txt
mkdir -p $OUT/a $OUT/b
for x in a b; do
  cat /root/keep/$x/train-log.json >> $OUT/log.txt
  # Graphs without reference.json (5 MB of fixtures) so both fit the device tool's 16 MiB files; the shipped
  # folder's reference.json is re-made from the checkpoint by train.vlm.export_checkpoint.
  d=$(mktemp -d); (cd $d && cat /root/keep/$x/model.tar.* | tar -xf - && rm -f */reference.json && tar -cf - * | xz -1 -T0 | split -b 15M -d -a 1 - $OUT/$x/model.tar.xz.)
done
W=$(python3 -c "import json;a,b=(json.load(open(f'/root/keep/{x}/train-log.json'))['val']['loss'] for x in 'ab');print('a' if a<b else 'b')")
echo "winner $W" >> $OUT/log.txt
cp /root/keep/$W/vlm.ckpt.* $OUT/$W/
