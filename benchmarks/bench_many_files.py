"""N short files through ``avs predict s2g``: one call for all of them vs one call per file.

The clips are cut from the bundled real speech (``examples/librivox_*.wav``, concatenated and cut
into N consecutive pieces of ``--seconds``, repeating when they run out). Both ways render the
default 1280×720 mp4 with the bundled checkpoint; each way is measured as wall seconds and CPU
seconds (user + system of the ``avs`` processes and their children, ffmpeg included). The load
average before and after is printed with the numbers, since the machine may be shared.
The two ways alternate over ``--rounds`` rounds; medians are reported.

Run: .venv/bin/python benchmarks/bench_many_files.py [--files 10] [--seconds 5] [--rounds 1]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def make_clips(folder: Path, files: int, seconds: float, sample_rate: int = 16000) -> list[Path]:
    import numpy as np
    import soundfile as sf

    sources = sorted((REPO / "examples").glob("librivox_*.wav"))
    speech = np.concatenate([sf.read(p, dtype="float32")[0] for p in sources])
    n = int(seconds * sample_rate)
    speech = np.resize(speech, n * files)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(files):
        path = folder / f"clip{i:02d}.wav"
        sf.write(path, speech[i * n:(i + 1) * n], sample_rate)
        paths.append(path)
    return paths


def timed(argv: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds (process + children) of one ``avs`` command; exits if it fails."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "avs.cli", *argv], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"avs {' '.join(argv)} failed: {proc.stderr.read().decode()}")
    return wall, usage.ru_utime + usage.ru_stime


def one_call(clips: list[Path], out: Path) -> tuple[float, float]:
    return timed(["predict", "s2g", *map(str, clips), "--out", str(out), "--quiet"])


def separate_calls(clips: list[Path], out: Path) -> tuple[float, float]:
    out.mkdir(parents=True, exist_ok=True)
    wall = cpu = 0.0
    for clip in clips:
        w, c = timed(["predict", "s2g", str(clip), "--out", str(out / f"{clip.stem}.mp4")])
        wall, cpu = wall + w, cpu + c
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    results: dict[str, list[tuple[float, float]]] = {"one call": [], "separate calls": []}
    with tempfile.TemporaryDirectory() as tmp:
        clips = make_clips(Path(tmp) / "clips", args.files, args.seconds)
        for r in range(args.rounds):
            results["one call"].append(one_call(clips, Path(tmp) / f"one{r}"))
            results["separate calls"].append(separate_calls(clips, Path(tmp) / f"sep{r}"))
            written = sorted(p.name for p in (Path(tmp) / f"one{r}").glob("*.mp4"))
            assert written == sorted(p.name for p in (Path(tmp) / f"sep{r}").glob("*.mp4")), written
            assert len(written) == args.files, written
    load_after = os.getloadavg()[0]
    for way, rows in results.items():
        print(json.dumps({"bench": "s2g-many-files", "way": way, "files": args.files, "audio_s_each": args.seconds,
                          "rounds": args.rounds, "wall_s": round(statistics.median(w for w, _ in rows), 2),
                          "cpu_s": round(statistics.median(c for _, c in rows), 2),
                          "load_avg_1min": [round(load_before, 1), round(load_after, 1)]}), flush=True)


if __name__ == "__main__":
    main()
