"""Peak memory of ``avs predict`` (predict + render + encode + ``--save-npz``) as the input grows.

Each (method, length) runs in its own process, so peak RSS (``ru_maxrss``) is that run's alone; the
input is real speech (the bundled LibriVox samples) repeated to the asked length. The ratio of the
longest to the shortest run shows whether memory stays flat (the target: under 1.3× from 1 to 20
minutes, and under 1.5 GB for an hour).

Run: .venv/bin/python benchmarks/bench_memory.py [--plugins s2g sdt emotalk] [--seconds 60 1200]
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

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_predict import make_speech  # noqa: E402


def child(plugin: str, wav: Path, overrides: list[str]) -> dict:
    from avs.plugins import discover
    from avs.predict import predict_to_video

    method = discover().get(plugin)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.mp4"
        t0 = time.perf_counter()
        result = predict_to_video(method, wav, method.default_checkpoint, out, overrides, save_npz=True)
        wall = time.perf_counter() - t0
        npz_mb = result.npz.stat().st_size / 2**20
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"bench": "memory", "plugin": plugin, "audio_s": round(result.duration, 1), "wall_s": round(wall, 1),
            "peak_rss_mb": round(rss_mb), "frames": result.num_frames, "npz_mb": round(npz_mb, 1),
            "overrides": overrides}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--plugins", nargs="+", default=["s2g", "sdt", "emotalk"])
    parser.add_argument("--seconds", type=float, nargs="+", default=[60.0, 1200.0])
    parser.add_argument("--small-video", action="store_true",
                        help="render 256×144 (faster on a busy machine; frames are streamed, so the growth of "
                             "memory with the length does not depend on the frame size)")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("overrides", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(child(args.child[0], Path(args.child[1]), args.overrides)))
        return
    tmp = tempfile.TemporaryDirectory()
    wavs = {}
    for seconds in args.seconds:  # written here, so the child's peak is the prediction's alone
        wavs[seconds] = Path(tmp.name) / f"speech_{seconds:g}.wav"
        make_speech(seconds, wavs[seconds])
    for plugin in args.plugins:
        peaks = []
        for seconds in args.seconds:
            small = ["render.height=144", "render.width=256"] if args.small_video else []
            out = subprocess.run([sys.executable, __file__, "--child", plugin, str(wavs[seconds]), *small],
                                 check=True, capture_output=True, text=True)
            row = json.loads(out.stdout.strip().splitlines()[-1])
            peaks.append(row["peak_rss_mb"])
            print(json.dumps(row), flush=True)
        if len(peaks) > 1:
            print(json.dumps({"bench": "memory_ratio", "plugin": plugin,
                              "seconds": [args.seconds[0], args.seconds[-1]],
                              "ratio": round(peaks[-1] / peaks[0], 3)}), flush=True)
    tmp.cleanup()


if __name__ == "__main__":
    main()
