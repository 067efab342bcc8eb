"""Cold ``avs predict s2g``, 60 s of speech → 1280×720 mp4: torch vs ONNX backend (or a baseline tree), alternated.

Each run is a fresh process (``python -m avs.cli predict s2g speech.wav --out out.mp4 --backend B``), so
every import and first call is paid. By default this tree runs with ``--backend torch`` and with
``--backend onnx`` (the checkpoint's ``.onnx`` sidecar; ``--backends`` picks), alternating, so a busy
machine slows all alike. With ``--baseline DIR`` (a checkout of an earlier commit, e.g. made with
``git worktree add`` or ``git archive``) the baseline's ``core`` and ``plugins/s2g`` go first on
``PYTHONPATH`` and its runs (its default backend) alternate with these. The same checkpoint is used by all
(``--checkpoint``, default: this tree's bundled one). Reported per variant: median wall seconds and median
CPU seconds (user + system of the process and its children, ffmpeg included), whether the process ever
imported torch, the peak resident memory (of the largest of the process and ffmpeg), the mp4 size, and
the 1-minute load average before and after (``os.getloadavg``).

Run: .venv/bin/python benchmarks/bench_s2g_cold.py [--backends torch,onnx] [--baseline DIR] [--rounds 3] [--seconds 60]
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


# the CLI in-process, reporting on stderr at exit whether torch was ever imported
CHILD = ("import atexit, sys\n"
         "atexit.register(lambda: print('torch-imported:', 'torch' in sys.modules, file=sys.stderr))\n"
         "from avs.cli import main\n"
         "main(sys.argv[1:])\n")


def run(tree: Path | None, backend: str | None, wav: Path, out: Path,
        checkpoint: Path) -> tuple[float, float, bool, int]:
    """(wall s, CPU s of the process and its children, torch imported, peak RSS MB of the largest of them)
    of one cold ``avs predict``."""
    env = dict(os.environ)
    if tree is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(tree / "core"), str(tree / "plugins" / "s2g")])
    args = ["predict", "s2g", str(wav), "--out", str(out), "--checkpoint", str(checkpoint)]
    if backend is not None:
        args += ["--backend", backend]
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", CHILD, *args], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    stderr = proc.stderr.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"avs predict failed ({tree or 'this tree'}, {backend}): {stderr}")
    return wall, usage.ru_utime + usage.ru_stime, "torch-imported: True" in stderr, usage.ru_maxrss // 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", type=Path)
    parser.add_argument("--backends", default="torch,onnx", help="backends of this tree to compare")
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
    variants: dict[str, tuple[Path | None, str | None]] = {}
    if args.baseline is not None:
        variants["baseline"] = (args.baseline.resolve(), None)
    for backend in filter(None, args.backends.split(",")):
        variants[f"this tree, {backend}"] = (None, backend)
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "speech.wav"
        make_speech(args.seconds, wav)
        load_before = os.getloadavg()[0]
        results: dict[str, list[tuple[float, float, bool, int]]] = {name: [] for name in variants}
        sizes = {}
        for _ in range(args.rounds):
            for name, (tree, backend) in variants.items():
                out = Path(tmp) / f"{name.replace(' ', '_').replace(',', '')}.mp4"
                results[name].append(run(tree, backend, wav, out, checkpoint))
                sizes[name] = out.stat().st_size
        load_after = os.getloadavg()[0]
        for name, rows in results.items():
            print(json.dumps({"bench": "s2g-cold-predict", "variant": name, "audio_s": args.seconds,
                              "rounds": args.rounds, "wall_s": round(statistics.median(r[0] for r in rows), 2),
                              "cpu_s": round(statistics.median(r[1] for r in rows), 2),
                              "wall_all": [round(r[0], 2) for r in rows], "cpu_all": [round(r[1], 2) for r in rows],
                              "torch_imported": any(r[2] for r in rows), "peak_rss_mb": max(r[3] for r in rows),
                              "mp4_kb": round(sizes[name] / 1024),
                              "loadavg_1min": [round(load_before, 2), round(load_after, 2)]}), flush=True)


if __name__ == "__main__":
    main()
