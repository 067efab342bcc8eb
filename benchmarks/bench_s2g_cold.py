"""Cold ``avs predict s2g`` on 60 s of speech → 1280×720 mp4, this tree vs a baseline tree, alternated.

Each run is a fresh process (``python -m avs.cli predict s2g speech.wav --out out.mp4``), so every
import and first call is paid. With ``--baseline DIR`` (a checkout of an earlier commit, e.g. made
with ``git worktree add`` or ``git archive``) the baseline's ``core`` and ``plugins/s2g`` go first on
``PYTHONPATH`` and its runs alternate with this tree's, so a busy machine slows both alike. The same
checkpoint is used by both (``--checkpoint``, default: this tree's bundled one). Reported per tree:
median wall seconds and median CPU seconds (user + system of the process and its children, ffmpeg
included), and the mp4 size.

Run: .venv/bin/python benchmarks/bench_s2g_cold.py [--baseline DIR] [--rounds 3] [--seconds 60]
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


def run(tree: Path | None, wav: Path, out: Path, checkpoint: Path) -> tuple[float, float]:
    env = dict(os.environ)
    if tree is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(tree / "core"), str(tree / "plugins" / "s2g")])
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "avs.cli", "predict", "s2g", str(wav), "--out", str(out),
                             "--checkpoint", str(checkpoint)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"avs predict failed ({tree or 'this tree'}): {proc.stderr.read().decode()}")
    return wall, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", type=Path)
    parser.add_argument("--checkpoint", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).parent))
    from bench_predict import make_speech

    checkpoint = args.checkpoint
    if checkpoint is None:
        from avs.plugins import discover

        checkpoint = discover().get("s2g").default_checkpoint
    trees: dict[str, Path | None] = {"this tree": None}
    if args.baseline is not None:
        trees = {"baseline": args.baseline.resolve(), **trees}
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "speech.wav"
        make_speech(args.seconds, wav)
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in trees}
        sizes = {}
        for _ in range(args.rounds):
            for name, tree in trees.items():
                out = Path(tmp) / f"{name.replace(' ', '_')}.mp4"
                results[name].append(run(tree, wav, out, checkpoint))
                sizes[name] = out.stat().st_size
        for name, rows in results.items():
            print(json.dumps({"bench": "s2g-cold-predict", "tree": name, "audio_s": args.seconds,
                              "rounds": args.rounds, "wall_s": round(statistics.median(w for w, _ in rows), 2),
                              "cpu_s": round(statistics.median(c for _, c in rows), 2),
                              "mp4_kb": round(sizes[name] / 1024)}), flush=True)


if __name__ == "__main__":
    main()
