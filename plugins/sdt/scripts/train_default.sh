#!/usr/bin/env bash
# Re-creates the bundled checkpoints of the sdt plugin, one CPU thread (about 15 minutes in all on a quiet
# machine), with the recipes in avs_sdt/configs/:
#   avs_sdt/checkpoints/pose_vae.safetensors  the pose VAE (FTD's encoder): default-checkpoint-pose-vae.yaml
#   avs_sdt/checkpoints/default.safetensors   SDT-BP: default-checkpoint.yaml
# Training speech: the bundled LibriVox recording librivox_0870 plus 70 s of espeak-ng speech from
# tts_prompts.txt (8 sentences, 8 voices; `apt-get install espeak-ng`), 4 augmented variants each; dev and test
# come from the held-out LibriVox recording librivox_0890, as in `avs data synth sdt`. The ~7 s of bundled
# training speech alone let SDT-BP over-fit after two epochs and barely move on unheard speech.
# Usage (from the repo root, after `make install`):  bash plugins/sdt/scripts/train_default.sh
set -euo pipefail
cd "$(dirname "$0")/../../.."
BIN=.venv/bin
WORK=${WORK:-runs/sdt-default}
OUT=plugins/sdt/avs_sdt/checkpoints
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
command -v espeak-ng >/dev/null || { echo "error: espeak-ng not found (apt-get install espeak-ng)" >&2; exit 2; }
rm -rf "$WORK"
mkdir -p "$WORK/speech"
n=0
while IFS='|' read -r voice text; do
  n=$((n + 1))
  espeak-ng -v "$voice" -s 150 -w "$WORK/speech/raw_$n.wav" "$text"
done < plugins/sdt/scripts/tts_prompts.txt
$BIN/python - "$WORK" <<'PY'
import shutil
import sys
from pathlib import Path

import librosa
import soundfile as sf

from avs.synth import default_speech_sources
from avs_sdt.synth import synthesize

work = Path(sys.argv[1])
tts = []
for raw in sorted((work / "speech").glob("raw_*.wav")):
    audio, rate = sf.read(raw)
    out = raw.with_name(f"espeak_{raw.stem[4:]}.wav")
    sf.write(out, librosa.resample(audio, orig_sr=rate, target_sr=16000), 16000)
    tts.append(out)
# the synthesis sorts its sources by path and holds out the last: all in one folder, librivox_0890 sorts last
for wav in default_speech_sources():
    shutil.copy(wav, work / "speech" / wav.name)
sources = sorted(p for p in (work / "speech").glob("*.wav") if not p.stem.startswith("raw_"))
assert sources[-1].stem == "librivox_0890", sources
print(synthesize(work / "data", None, 0, sources=sources, train_variants=4))
PY
$BIN/avs train sdt --data "$WORK/data" --out "$WORK/pose_vae" --config default-checkpoint-pose-vae
$BIN/python scripts/export_checkpoint.py sdt "$WORK/pose_vae/best.safetensors" "$OUT/pose_vae.safetensors"
$BIN/avs train sdt --data "$WORK/data" --out "$WORK/sdt_bp" --config default-checkpoint
$BIN/python scripts/export_checkpoint.py sdt "$WORK/sdt_bp/best.safetensors" "$OUT/default.safetensors" \
    pose_vae_checkpoint=bundled
$BIN/avs evaluate sdt --data "$WORK/data" --split test --json "$WORK/eval_test.json" pca_plot="$WORK/templates_pca.png"
