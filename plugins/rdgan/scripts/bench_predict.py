"""Predict time and peak RSS of rdgan for 10 s of real speech on the astronaut photo (bundled weights).

Usage: python plugins/rdgan/scripts/bench_predict.py SPEECH.wav [--seconds 10]
Prints one JSON line: seconds of speech, frames, wall time of predict + video writing, peak RSS (MiB).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def main(argv: list[str]) -> None:
    import imageio.v3 as iio
    import skimage.data

    from avs.api import load_audio, write_wav
    from avs.plugins import discover
    from avs.predict import predict_to_video

    p = argparse.ArgumentParser()
    p.add_argument("speech", type=Path)
    p.add_argument("--seconds", type=float, default=10.0)
    args = p.parse_args(argv)
    method = discover().get("rdgan")
    audio = load_audio(args.speech, 16000)
    n = int(args.seconds * 16000)
    audio = np.tile(audio, n // len(audio) + 1)[:n]
    with tempfile.TemporaryDirectory() as tmp:
        wav = write_wav(Path(tmp) / "speech.wav", audio, 16000)
        photo = Path(tmp) / "astronaut.png"
        iio.imwrite(photo, skimage.data.astronaut())
        t = time.perf_counter()
        result = predict_to_video(method, wav, method.default_checkpoint, Path(tmp) / "out.mp4", inputs={"face": photo})
        wall = time.perf_counter() - t
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"speech_s": args.seconds, "frames": result.num_frames, "predict_s": round(wall, 2),
                      "peak_rss_mib": round(rss, 1)}))


if __name__ == "__main__":
    main(sys.argv[1:])
