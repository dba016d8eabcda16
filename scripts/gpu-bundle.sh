#!/usr/bin/env bash
# Builds what the GPU machine needs to run Sightline on the WebGPU provider (docs/gpu.md) into a
# git-ignored folder: node (stripped, xz), onnxruntime-node with only its linux/x64 binaries plus
# onnxruntime-common (xz), the Vulkan loader and GL dispatch libraries from Debian (extracted, not
# installed: the NVIDIA ICD needs libGLdispatch), the CLI and the GPU checks bundled by esbuild into
# ES modules, the scaled-model exporter, and env.sh / run.sh.
#
# Usage, from the project root after `npm install`:
#   scripts/gpu-bundle.sh [--root DIR] [--out NAME] [--with-models]
#     --root DIR      checkout the folder goes into (default: this one); the device tool ships the session's
#                     checkout, so helpers working in another worktree pass that checkout here
#     --out NAME      folder name under DIR (default .gpu); added to DIR/.git/info/exclude
#     --with-models   also copy the default model and the tiny fixtures (~15 MB) into the folder; without it
#                     the models come from DIR's own models/ and test/fixtures/ (tracked, so they travel)
# Then run with the device tool:  carry [".gpu"], command  bash .gpu/run.sh node .gpu/check.mjs --out $OUT
# The device tool's carry limit is 64 MiB for the working tree plus carried folders: this folder is ~37 MB,
# so the checkout's own tracked + untracked files must stay under ~27 MB for a call that carries it.
set -euo pipefail
SRC=$(pwd)
ROOT=$SRC
NAME=.gpu
MODELS=0
while [ $# -gt 0 ]; do
  case "$1" in
    --root) ROOT=$(cd "$2" && pwd); shift 2 ;;
    --out) NAME=$2; shift 2 ;;
    --with-models) MODELS=1; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[ -d node_modules/onnxruntime-node ] || { echo "run npm install first (node_modules/onnxruntime-node missing)" >&2; exit 1; }
OUT=$ROOT/$NAME
mkdir -p "$OUT"
EXCLUDE=$(git -C "$ROOT" rev-parse --git-path info/exclude)
case "$EXCLUDE" in /*) ;; *) EXCLUDE=$ROOT/$EXCLUDE ;; esac
grep -qxF "/$NAME/" "$EXCLUDE" 2>/dev/null || echo "/$NAME/" >> "$EXCLUDE"

# 1. node binary (the developer machine's node 20, x86-64)
if [ ! -f "$OUT/node.xz" ]; then
  tmp=$(mktemp); cp "$(command -v node)" "$tmp"; strip "$tmp" 2>/dev/null || true
  xz -T0 -9 -c "$tmp" > "$OUT/node.xz"; rm -f "$tmp"
fi
# 2. onnxruntime-node (linux/x64 only) + onnxruntime-common, unpacked on the device into $OUT/node_modules
if [ ! -f "$OUT/ort.tar.xz" ]; then
  stage=$(mktemp -d)
  mkdir -p "$stage/onnxruntime-node/bin/napi-v6/linux"
  (cd node_modules/onnxruntime-node && cp -r package.json dist "$stage/onnxruntime-node/" && \
     cp -r bin/napi-v6/linux/x64 "$stage/onnxruntime-node/bin/napi-v6/linux/")
  cp -r node_modules/onnxruntime-common "$stage/"
  tar -C "$stage" -cf - . | xz -T0 -9 > "$OUT/ort.tar.xz"; rm -rf "$stage"
fi
# 3. Vulkan loader + GL dispatch (amd64 packages, whatever this machine's architecture)
if [ ! -f "$OUT/vk.tar.xz" ]; then
  debs=$(mktemp -d); lists=$(mktemp -d); vk=$(mktemp -d); mkdir -p "$lists/partial"
  o="-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=$lists"
  pkgs="libvulkan1 libglvnd0 libglx0 libegl1 libgl1 libopengl0"
  (cd "$debs" && { apt-get $o download $pkgs >/dev/null 2>&1 || { apt-get $o update -qq >/dev/null 2>&1; apt-get $o download $pkgs >/dev/null; }; })
  for d in "$debs"/*.deb; do dpkg-deb -x "$d" "$vk"; done
  tar -C "$vk/usr/lib/x86_64-linux-gnu" -cf - . | xz -T0 -9 > "$OUT/vk.tar.xz"
  rm -rf "$debs" "$lists" "$vk" "$OUT/vk"
fi
# 4. the project, bundled (onnxruntime-node stays external: it is the native part unpacked above)
npx tsc -p tsconfig.build.json
BANNER="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);"
EXT="--external:onnxruntime-node --external:@lancedb/lancedb --external:sharp --external:@ffmpeg-installer/ffmpeg --external:@ffprobe-installer/ffprobe"
npx esbuild dist/src/cli.js --bundle --platform=node --format=esm --target=node20 --minify $EXT --banner:js="$BANNER" --outfile="$OUT/sightline.mjs" --log-level=warning
# The engine worker is loaded by URL next to the module that starts it (src/model/pool.ts).
npx esbuild src/model/engine.worker.ts --bundle --platform=node --format=esm --target=node20 --minify $EXT --banner:js="$BANNER" --outfile="$OUT/engine.worker.js" --log-level=warning
for b in bench/gpu/*.ts bench/byo-cost.ts bench/engine-concurrency.ts bench/batch-cost.ts bench/decoder-call.ts; do
  npx esbuild "$b" --bundle --platform=node --format=esm --target=node20 --minify $EXT --banner:js="$BANNER" --outfile="$OUT/$(basename "$b" .ts).mjs" --log-level=warning
done
echo '{"type":"module"}' > "$OUT/package.json"
cp bench/gpu/*.py "$OUT/" 2>/dev/null || true
if [ "$MODELS" = 1 ]; then
  mkdir -p "$OUT/models" && cp -r models/sightline-commentator-v5-int8 test/fixtures/models/tiny-random-1l test/fixtures/models/tiny-random-2l "$OUT/models/"
fi
# 5. environment and runner
cat > "$OUT/env.sh" <<'ENV'
# source on the GPU machine (from the checkout root or anywhere): node on PATH, onnxruntime-node next to
# the bundle, the carried Vulkan/GL libraries first on the library path, the NVIDIA Vulkan ICD.
B=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ ! -x /tmp/sl-node/bin/node ]; then
  mkdir -p /tmp/sl-node/bin && xz -dc "$B/node.xz" > /tmp/sl-node/bin/node && chmod +x /tmp/sl-node/bin/node
fi
[ -f "$B/node_modules/onnxruntime-node/package.json" ] || { mkdir -p "$B/node_modules" && xz -dc "$B/ort.tar.xz" | tar -C "$B/node_modules" -xf -; }
[ -f /tmp/sl-vk/libvulkan.so.1 ] || { mkdir -p /tmp/sl-vk && xz -dc "$B/vk.tar.xz" | tar -C /tmp/sl-vk -xf -; }
export PATH=/tmp/sl-node/bin:$PATH
export LD_LIBRARY_PATH=/tmp/sl-vk:${LD_LIBRARY_PATH:-} XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
ICD=$(ls /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd*.json /usr/share/vulkan/icd.d/nvidia_icd*.json /etc/vulkan/icd.d/nvidia_icd*.json 2>/dev/null | head -1)
[ -n "$ICD" ] && export VK_ICD_FILENAMES=$ICD VK_DRIVER_FILES=$ICD
if [ -d "$B/models" ]; then export SIGHTLINE_MODEL=${SIGHTLINE_MODEL:-$B/models/sightline-commentator-v5-int8}
elif [ -d "$B/../models" ]; then export SIGHTLINE_MODEL=${SIGHTLINE_MODEL:-$(cd "$B/.." && pwd)/models/sightline-commentator-v5-int8}; fi
ENV
cat > "$OUT/run.sh" <<'RUN'
#!/usr/bin/env bash
# Run a command in the bundle's environment, e.g.  bash .gpu/run.sh node .gpu/sightline.mjs watch in.mp4 --device webgpu
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
exec "$@"
RUN
chmod +x "$OUT/run.sh"
du -sh "$OUT" | awk '{print "gpu bundle: " $2 " " $1 " (device tool carry limit: 64 MiB with the working tree)"}'
