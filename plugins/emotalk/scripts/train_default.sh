#!/usr/bin/env bash
# Re-creates the bundled checkpoint plugins/emotalk/avs_emotalk/checkpoints/default.safetensors:
# the small preset (avs_emotalk.config.SMALL_PRESET) trained on `avs data synth emotalk` (seed 0),
# then exported as fp16: 200 steps of 8 pairs (Adam 1e-3), the better of the two epochs on the dev split.
# Longer training overfits the 13 training statements (dev error rises after step 200, also with a
# decayed learning rate). About 3 minutes on 2 CPU cores (CPU training is deterministic: the same file).
# Usage (from the repo root, after `make install`):  bash plugins/emotalk/scripts/train_default.sh
set -euo pipefail
cd "$(dirname "$0")/../../.."
BIN=.venv/bin
WORK=${WORK:-runs/emotalk-default}
EPOCHS=${EPOCHS:-2}
ITERS=${ITERS:-100}
export HF_HUB_OFFLINE=1
PRESET=$($BIN/python -c "from avs_emotalk.config import SMALL_PRESET; print(' '.join(SMALL_PRESET))")
rm -rf "$WORK"
$BIN/avs data synth emotalk "$WORK/data" --seed 0
# shellcheck disable=SC2086
$BIN/avs train emotalk --data "$WORK/data" --out "$WORK/run" $PRESET \
    train.epochs="$EPOCHS" train.iterations_per_epoch="$ITERS" train.batch_size=8 train.lr_g=1e-3 \
    loss.w_emotion=1.0 train.device=cpu train.checkpoint_every=0
$BIN/python scripts/export_checkpoint.py emotalk "$WORK/run/best.safetensors" \
    plugins/emotalk/avs_emotalk/checkpoints/default.safetensors
$BIN/avs evaluate emotalk --data "$WORK/data" --checkpoint plugins/emotalk/avs_emotalk/checkpoints/default.safetensors \
    --split test --json "$WORK/eval_test.json"
$BIN/python plugins/emotalk/scripts/baselines.py "$WORK/data" --split test
