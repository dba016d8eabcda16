#!/usr/bin/env bash
# Restores a model folder that left the tree (to keep the checkout under its size budget) from git history:
#   scripts/restore-model.sh sightline-commentator-v5            # the fp32 commentator, with its PyTorch reference.json
#   scripts/restore-model.sh sightline-retrieval-meanpool-v1     # the mean-pooling retrieval baseline (the ablation)
# into .cache/models/NAME (git-ignored). Needs a clone with history (not an npm install). docs/commentator-model.md
# and docs/retrieval-model.md say which commands use them.
set -euo pipefail
cd "$(dirname "$0")/.."
COMMIT=d8165de # the last commit that held these folders
name=${1:?usage: scripts/restore-model.sh NAME [OUT_DIR]}
out=${2:-.cache/models/$name}
if ! git cat-file -e "$COMMIT:models/$name" 2>/dev/null; then
  echo "restore-model: models/$name is not in commit $COMMIT (or this is not a git clone with history)" >&2
  exit 1
fi
mkdir -p "$out"
git archive "$COMMIT" "models/$name" | tar -x -C "$out" --strip-components=2
echo "$out"
