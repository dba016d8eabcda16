#!/usr/bin/env bash
# Run a command with the GPU bundle's environment (scripts/gpu-bundle.sh). Usage: scripts/gpu-run.sh [--bundle DIR] CMD...
set -euo pipefail
B=.gpu
if [ "${1:-}" = "--bundle" ]; then B=$2; shift 2; fi
exec bash "$B/run.sh" "$@"
