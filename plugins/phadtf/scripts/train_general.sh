#!/usr/bin/env bash
# Re-creates the bundled general ATC_net plugins/phadtf/avs_phadtf/checkpoints/general_small.safetensors:
# configs/general_small.yaml (the `small` preset's ATC_net, lr 2e-4, batch 16) on every prepared person of
# a face data root (here the five sample videos: `avs data prepare face VIDEO... data/faces`); the
# best-dev checkpoint (best.safetensors) is exported fp16.
# Usage (repo root, after `make install`):  bash plugins/phadtf/scripts/train_general.sh data/faces [EPOCHS]
set -euo pipefail
cd "$(dirname "$0")/../../.."
DATA=${1:?usage: train_general.sh FACE_DATA_ROOT [EPOCHS]}
EPOCHS=${2:-16}
BIN=.venv/bin
WORK=${WORK:-runs/phadtf_general_small}
rm -rf "$WORK"
$BIN/avs train phadtf --data "$DATA" --config general_small --out "$WORK" \
    train.epochs="$EPOCHS"
$BIN/python scripts/export_checkpoint.py phadtf "$WORK/best.safetensors" \
    plugins/phadtf/avs_phadtf/checkpoints/general_small.safetensors
