#!/usr/bin/env bash
# The whole path for one person, from a video alone (what the plugin README documents):
# prepare the person, fine-tune (small preset), talk with new speech, evaluate on the held-out frames.
# Usage (repo root):  bash plugins/phadtf/scripts/person_demo.sh VIDEO.mp4 SPEECH.wav [OUT_DIR] [overrides...]
set -euo pipefail
cd "$(dirname "$0")/../../.."
VIDEO=${1:?usage: person_demo.sh VIDEO SPEECH [OUT_DIR] [overrides...]}
SPEECH=${2:?usage: person_demo.sh VIDEO SPEECH [OUT_DIR] [overrides...]}
OUT=${3:-runs/phadtf_demo}
shift $(( $# < 3 ? $# : 3 ))
BIN=.venv/bin
NAME=$(basename "${VIDEO%.*}")
mkdir -p "$OUT"
[ -d "$OUT/faces/$NAME" ] || env time -f "prepare: %e s, %M KiB" $BIN/avs data prepare face "$VIDEO" "$OUT/faces"
env time -f "fine-tune: %e s, %M KiB" $BIN/avs train phadtf --data "$OUT/faces/$NAME" \
    --config finetune_small --out "$OUT/run" "$@"
env time -f "predict: %e s, %M KiB" $BIN/avs predict phadtf "$SPEECH" --checkpoint "$OUT/run/last.safetensors" \
    --out "$OUT/talk.mp4" --save-npz
env time -f "evaluate: %e s, %M KiB" $BIN/python plugins/phadtf/scripts/evaluate_person.py \
    "$OUT/run/last.safetensors" "$OUT/faces/$NAME" "$OUT/eval.json" "$OUT/contact_sheet.png" "$OUT/talk.mp4"
