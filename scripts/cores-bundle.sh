#!/usr/bin/env bash
# Bundles bench/engine-cores.ts, bench/engine-concurrency.ts and the engine worker (esbuild, ES modules) into a git-ignored folder of a
# checkout, to run the cores bench on the GPU machine (16 cores) next to the .gpu bundle that scripts/gpu-bundle.sh
# builds (its node and onnxruntime-node are reused):
#   scripts/cores-bundle.sh [--root DIR] [--out .cores-bundle]
# then, with the device tool, carry [".gpu", ".cores-bundle"] and run
#   source .gpu/env.sh && ln -sfn ../.gpu/node_modules .cores-bundle/node_modules && \
#     node .cores-bundle/engine-cores.mjs --workers 1,2,4,8,16 --modes threads,processes
#   (engine-concurrency.mjs takes --model models/sightline-commentator-v5-int8: its default is a test fixture)
set -euo pipefail
ROOT=$(pwd)
NAME=.cores-bundle
while [ $# -gt 0 ]; do
  case "$1" in
    --root) ROOT=$(cd "$2" && pwd); shift 2 ;;
    --out) NAME=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
OUT=$ROOT/$NAME
mkdir -p "$OUT"
EXCLUDE=$(git -C "$ROOT" rev-parse --git-path info/exclude)
case "$EXCLUDE" in /*) ;; *) EXCLUDE=$ROOT/$EXCLUDE ;; esac
grep -qxF "/$NAME/" "$EXCLUDE" 2>/dev/null || echo "/$NAME/" >> "$EXCLUDE"
BANNER="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);"
EXT="--external:onnxruntime-node --external:@lancedb/lancedb --external:sharp --external:@ffmpeg-installer/ffmpeg --external:@ffprobe-installer/ffprobe"
for f in bench/engine-cores.ts bench/engine-concurrency.ts src/model/engine.worker.ts; do
  base=$(basename "$f" .ts)
  ext=mjs; [ "$base" = engine.worker ] && ext=js   # the pool loads engine.worker.js next to itself
  npx esbuild "$f" --bundle --platform=node --format=esm --target=node20 $EXT --banner:js="$BANNER" --outfile="$OUT/$base.$ext" --log-level=warning
done
echo '{"type":"module"}' > "$OUT/package.json"
du -sh "$OUT"
