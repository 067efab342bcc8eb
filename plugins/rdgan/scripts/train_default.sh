#!/usr/bin/env bash
# How the bundled rdgan checkpoint was made (see plugins/rdgan/README.md, "Bundled default").
#   1. face data from the project's sample talking-face videos (needs avs-toolkit[face]);
#   2. the small preset through core's trainer, 20 epochs of 50 iterations (1000 iterations, ≈ 25 min on one
#      idle CPU thread; the bundled run: 16 epochs, then --resume with train.epochs=20, which is the same run);
#   3. generator + audio→landmark weights exported in fp16 (no critics).
# Usage: bash plugins/rdgan/scripts/train_default.sh VIDEO_DIR [DATA_DIR] [RUN_DIR]
set -euo pipefail
VIDEOS=${1:?folder with the sample talking-face videos (*.mp4)}
DATA=${2:-data/faces}
RUN=${3:-runs/rdgan_small}
BIN=${BIN:-.venv/bin}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
[ -f "$DATA/index.json" ] || "$BIN/avs" data prepare face "$VIDEOS"/*.mp4 "$DATA"
"$BIN/avs" train rdgan --data "$DATA" --config small --out "$RUN" train.epochs=20 train.iterations_per_epoch=50
"$BIN/python" scripts/export_checkpoint.py rdgan "$RUN/last.safetensors" \
    plugins/rdgan/avs_rdgan/checkpoints/default.safetensors
