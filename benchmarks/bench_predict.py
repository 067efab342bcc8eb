"""Predict + render + encode for long inputs: wall time, realtime factor, peak RSS.

The input is real speech (the bundled LibriVox samples) repeated to the asked length.
Each length runs in its own process so that peak RSS (ru_maxrss) is that run's alone.

Run: .venv/bin/python benchmarks/bench_predict.py [--plugin s2g] [--seconds 60 600]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def make_speech(seconds: float, path: Path, sample_rate: int = 16000) -> None:
    import numpy as np
    import soundfile as sf

    parts = [sf.read(p, dtype="float32")[0] for p in sorted((REPO / "examples").glob("librivox_*.wav"))]
    speech = np.concatenate(parts)
    n = int(seconds * sample_rate)
    sf.write(path, np.resize(speech, n), sample_rate)


def child(plugin: str, seconds: float) -> dict:
    from avs.plugins import discover
    from avs.predict import predict_to_video
    from avs.video import probe_video

    method = discover().get(plugin)
    with tempfile.TemporaryDirectory() as tmp:
        wav, out = Path(tmp) / "speech.wav", Path(tmp) / "out.mp4"
        make_speech(seconds, wav, method.sample_rate)
        t0 = time.perf_counter()
        result = predict_to_video(method, wav, method.default_checkpoint, out)
        wall = time.perf_counter() - t0
        info = probe_video(out)
        size = out.stat().st_size
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"bench": "predict", "plugin": plugin, "audio_s": seconds, "wall_s": round(wall, 2),
            "realtime_factor": round(seconds / wall, 1), "peak_rss_mb": round(rss_mb),
            "frames": result.num_frames, "video_frames": info.num_frames,
            "size": f"{info.width}x{info.height}", "mp4_mb": round(size / 2**20, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--plugin", default="s2g")
    parser.add_argument("--seconds", type=float, nargs="+", default=[60.0, 600.0])
    parser.add_argument("--child", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(child(args.plugin, args.child)))
        return
    for seconds in args.seconds:
        out = subprocess.run([sys.executable, __file__, "--plugin", args.plugin, "--child", str(seconds)],
                             check=True, capture_output=True, text=True)
        print(out.stdout.strip().splitlines()[-1], flush=True)


if __name__ == "__main__":
    main()
