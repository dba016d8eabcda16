#!/usr/bin/env bash
# Packs what a training run needs on the GPU machine (no node, no npm, no ffmpeg there) into .device/:
# the node binary (stripped, xz) and the `sightline synth` command bundled into one ES module by esbuild
# (training only renders matches, so onnxruntime and LanceDB stay out). Run from the project root after
# `npm install`; then call the device tool with carry [".device"] and start the command with
#   source .device/train-env.sh && python3 -m train.vlm.train ...
set -euo pipefail
OUT=.device
mkdir -p "$OUT"
# --git-path: a worktree's .git is a file, its exclude lives in the main repository's git dir
EXCLUDE=$(git rev-parse --git-path info/exclude)
mkdir -p "$(dirname "$EXCLUDE")"
grep -qxF "/$OUT/" "$EXCLUDE" 2>/dev/null || echo "/$OUT/" >> "$EXCLUDE"
if [ ! -f "$OUT/node.xz" ]; then
  tmp=$(mktemp); cp "$(command -v node)" "$tmp"; strip "$tmp" 2>/dev/null || true
  xz -T0 -6 -c "$tmp" > "$OUT/node.xz"; rm -f "$tmp"
fi
npm run build >/dev/null
# Training only renders matches: bundle the synth command alone, so the search stack (LanceDB's native
# module, not carried) is not imported at start-up.
cat > dist/src/train-synth-cli.js <<'ENTRY'
import { Command } from 'commander';
import { registerSynth } from './cli/synth.js';
const program = new Command().name('sightline');
registerSynth(program);
await program.parseAsync(process.argv);
ENTRY
npx esbuild dist/src/train-synth-cli.js --bundle --platform=node --format=esm --target=node20 \
  --external:onnxruntime-node --external:@lancedb/lancedb --external:@ffmpeg-installer/ffmpeg --external:@ffprobe-installer/ffprobe \
  --banner:js="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" \
  --outfile="$OUT/sightline.mjs" --log-level=warning
cat > "$OUT/train-env.sh" <<'ENV'
# source on the GPU machine from the checkout root: puts node on PATH and points train/ at the bundled CLI
B=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ ! -x /tmp/sl-node/bin/node ]; then
  mkdir -p /tmp/sl-node/bin && xz -dc "$B/node.xz" > /tmp/sl-node/bin/node && chmod +x /tmp/sl-node/bin/node
fi
export PATH=/tmp/sl-node/bin:$PATH SIGHTLINE_NODE=/tmp/sl-node/bin/node SIGHTLINE_CLI=$B/sightline.mjs
ENV
du -sh "$OUT" | awk '{print "training bundle: " $2 " " $1}'
