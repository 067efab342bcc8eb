#!/usr/bin/env bash
# How the bundled rdgan checkpoint was made (see plugins/rdgan/README.md, "Bundled default").
#   1. face data from the project's sample talking-face videos (needs avs-toolkit[face]);
#   2. the small preset through core's trainer, 20 epochs of 50 iterations (1000 iterations; the first bundled
#      run: 16 epochs, then --resume with train.epochs=20, which is the same run);
#   3. continued from those weights (scripts/warm_start.py: fresh critics and RMSProp statistics, the learning-rate
#      schedule continuing at step 1000) with --resume up to train.epochs=$EPOCHS (the bundled run was stopped by
#      its time budget; the epoch it reached is in the README);
#   4. the generator of the epoch with the best dev L1 exported in fp16 with the audio→landmark model fitted in
#      closed form on the data (scripts/export_default.py; no critics).
# Usage: bash plugins/rdgan/scripts/train_default.sh VIDEO_DIR [DATA_DIR] [RUN_DIR]
set -euo pipefail
VIDEOS=${1:?folder with the sample talking-face videos (*.mp4)}
DATA=${2:-data/faces}
RUN=${3:-runs/rdgan_small}
EPOCHS=${EPOCHS:-80}
BIN=${BIN:-.venv/bin}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
[ -f "$DATA/index.json" ] || "$BIN/avs" data prepare face "$VIDEOS"/*.mp4 "$DATA"
"$BIN/avs" train rdgan --data "$DATA" --config small --out "$RUN" train.epochs=20 train.iterations_per_epoch=50
"$BIN/python" plugins/rdgan/scripts/export_default.py "$RUN/last.safetensors" "$DATA" "$RUN/epoch20.safetensors"
"$BIN/python" plugins/rdgan/scripts/warm_start.py "$RUN-long" --checkpoint "$RUN/epoch20.safetensors"
"$BIN/avs" train rdgan --data "$DATA" --resume "$RUN-long" train.epochs="$EPOCHS"
"$BIN/python" plugins/rdgan/scripts/export_default.py "$RUN-long/best.safetensors" "$DATA" \
    plugins/rdgan/avs_rdgan/checkpoints/default.safetensors
