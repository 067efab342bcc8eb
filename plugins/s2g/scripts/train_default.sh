#!/usr/bin/env bash
# Re-creates the bundled checkpoint plugins/s2g/avs_s2g/checkpoints/default.safetensors:
# the small width preset (avs_s2g.config.SMALL_PRESET) trained on `avs data synth s2g`.
# Usage (from the repo root, after `make install`):  make default-checkpoint
set -euo pipefail
cd "$(dirname "$0")/../../.."
BIN=.venv/bin
WORK=${WORK:-runs/s2g-default}
EPOCHS=${EPOCHS:-16}
ITERS=${ITERS:-25}
PRESET=$($BIN/python -c "from avs_s2g.config import SMALL_PRESET; print(' '.join(SMALL_PRESET))")
rm -rf "$WORK"
$BIN/avs data synth s2g "$WORK/data" --seed 0
# shellcheck disable=SC2086
$BIN/avs train s2g --data "$WORK/data" --out "$WORK/run" $PRESET \
    train.epochs="$EPOCHS" train.iterations_per_epoch="$ITERS" train.batch_size=16 \
    train.lr_g=1e-3 train.lr_d=1e-3 train.checkpoint_every=100
$BIN/python scripts/export_checkpoint.py s2g "$WORK/run/best.safetensors" \
    plugins/s2g/avs_s2g/checkpoints/default.safetensors
$BIN/avs evaluate s2g --data "$WORK/data" --checkpoint plugins/s2g/avs_s2g/checkpoints/default.safetensors \
    --json "$WORK/eval_test.json"
