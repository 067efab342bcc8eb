#!/usr/bin/env bash
# Re-creates the bundled checkpoints of the sdt plugin on `avs data synth sdt` (seed 0), one CPU thread
# (about 10 minutes in all), with the recipes in avs_sdt/configs/:
#   avs_sdt/checkpoints/pose_vae.safetensors  the pose VAE (FTD's encoder): default-checkpoint-pose-vae.yaml
#   avs_sdt/checkpoints/default.safetensors   SDT-BP: default-checkpoint.yaml
# Usage (from the repo root, after `make install`):  bash plugins/sdt/scripts/train_default.sh
set -euo pipefail
cd "$(dirname "$0")/../../.."
BIN=.venv/bin
WORK=${WORK:-runs/sdt-default}
OUT=plugins/sdt/avs_sdt/checkpoints
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
rm -rf "$WORK"
$BIN/avs data synth sdt "$WORK/data" --seed 0
$BIN/avs train sdt --data "$WORK/data" --out "$WORK/pose_vae" --config default-checkpoint-pose-vae
$BIN/python scripts/export_checkpoint.py sdt "$WORK/pose_vae/best.safetensors" "$OUT/pose_vae.safetensors"
$BIN/avs train sdt --data "$WORK/data" --out "$WORK/sdt_bp" --config default-checkpoint
$BIN/python scripts/export_checkpoint.py sdt "$WORK/sdt_bp/best.safetensors" "$OUT/default.safetensors" \
    pose_vae_checkpoint=bundled
$BIN/avs evaluate sdt --data "$WORK/data" --split test --json "$WORK/eval_test.json" pca_plot="$WORK/templates_pca.png"
