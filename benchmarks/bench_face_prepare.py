"""Throughput of `avs data prepare face`: frames/s on the 1280×720 and a 512×512 sample video, peak memory.

Each video is prepared in its own process (`avs data prepare face VIDEO OUT --quiet`); peak RSS is
that process's maximum resident set (ru_maxrss of the child). Frames/s is decoded-and-tracked frames
per second of wall time, including start-up (MediaPipe graph, dlib models), frame encoding, audio and
the model fit. Needs the face extra and the sample videos (skipped with a note otherwise).

Run: .venv/bin/python benchmarks/bench_face_prepare.py   (prints one JSON line per video)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SAMPLES = Path(__file__).resolve().parents[1].parent / "shared" / "samples" / "video"
VIDEOS = ["phadtf_31.mp4", "hdtf_WDA_KatieHill_000.mp4"]


def main() -> None:
    import importlib.util

    if importlib.util.find_spec("mediapipe") is None:
        print(json.dumps({"bench": "face_prepare", "skipped": "face extra not installed"}))
        return
    for name in VIDEOS:
        video = SAMPLES / name
        if not video.is_file():
            print(json.dumps({"bench": "face_prepare", "video": name, "skipped": "sample video absent"}))
            continue
        with tempfile.TemporaryDirectory() as tmp:
            env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "2"))
            t0 = time.perf_counter()
            proc = subprocess.Popen([sys.executable, "-m", "avs.cli", "data", "prepare", "face", str(video),
                                     str(Path(tmp) / "faces"), "--quiet"], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL, env=env)
            _, status, usage = os.wait4(proc.pid, 0)  # this child's own rusage (peak RSS, CPU time)
            proc.returncode = os.waitstatus_to_exitcode(status)
            wall = time.perf_counter() - t0
            if proc.returncode != 0:
                raise SystemExit(f"avs data prepare face {video} failed ({proc.returncode})")
            meta = json.loads((Path(tmp) / "faces" / video.stem / "meta.json").read_text())
        cpu = usage.ru_utime + usage.ru_stime
        print(json.dumps({
            "bench": "face_prepare", "video": name, "size": f"{meta['width']}x{meta['height']}",
            "frames": meta["num_frames"], "wall_s": round(wall, 1), "frames_per_s": round(meta["num_frames"] / wall, 1),
            "cpu_s": round(cpu, 1), "frames_per_cpu_s": round(meta["num_frames"] / cpu, 1),
            "peak_rss_mb": round(usage.ru_maxrss / 1024), "cores": os.cpu_count(),
        }), flush=True)


if __name__ == "__main__":
    main()
