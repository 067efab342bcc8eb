#!/usr/bin/env bash
# Re-creates the bundled checkpoint plugins/emotalk/avs_emotalk/checkpoints/default.safetensors with the
# recipe avs_emotalk/configs/default-checkpoint.yaml on `avs data synth emotalk` (seed 0), then exports
# it as fp16 and scores it and the constant-face baselines on the test split. CPU training is
# deterministic: the same file. Usage (from the repo root, after `make install`):
#   bash plugins/emotalk/scripts/train_default.sh
set -euo pipefail
cd "$(dirname "$0")/../../.."
BIN=.venv/bin
WORK=${WORK:-runs/emotalk-default}
export HF_HUB_OFFLINE=1
rm -rf "$WORK"
$BIN/avs data synth emotalk "$WORK/data" --seed 0
$BIN/avs train emotalk --data "$WORK/data" --out "$WORK/run" --config default-checkpoint "$@"
$BIN/python scripts/export_checkpoint.py emotalk "$WORK/run/best.safetensors" \
    plugins/emotalk/avs_emotalk/checkpoints/default.safetensors
$BIN/avs evaluate emotalk --data "$WORK/data" --checkpoint plugins/emotalk/avs_emotalk/checkpoints/default.safetensors \
    --split test --json "$WORK/eval_test.json"
$BIN/python plugins/emotalk/scripts/baselines.py "$WORK/data" --split test
