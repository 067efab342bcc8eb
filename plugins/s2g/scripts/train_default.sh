#!/usr/bin/env bash
# Re-creates the bundled checkpoint plugins/s2g/avs_s2g/checkpoints/default.safetensors with the recipe
# avs_s2g/configs/default-checkpoint.yaml on `avs data synth s2g` (seed 0); extra key=value arguments
# go to `avs train`. The export step also writes the ONNX graph default.onnx beside it (torch-free predict).
# Usage (from the repo root, after `make install`):  make default-checkpoint
set -euo pipefail
cd "$(dirname "$0")/../../.."
BIN=.venv/bin
WORK=${WORK:-runs/s2g-default}
rm -rf "$WORK"
$BIN/avs data synth s2g "$WORK/data" --seed 0
$BIN/avs train s2g --data "$WORK/data" --out "$WORK/run" --config default-checkpoint "$@"
$BIN/python scripts/export_checkpoint.py s2g "$WORK/run/best.safetensors" \
    plugins/s2g/avs_s2g/checkpoints/default.safetensors
$BIN/avs evaluate s2g --data "$WORK/data" --checkpoint plugins/s2g/avs_s2g/checkpoints/default.safetensors \
    --json "$WORK/eval_test.json"
