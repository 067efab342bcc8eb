"""Lever for a torch-free predict path: the s2g generator exported to ONNX and run with onnxruntime.

1. Exports the bundled s2g generator for one inference window (``infer.window_frames`` = 256 pose
   frames, 1706 log-mel frames) with ``torch.onnx.export`` and checks parity with torch on random
   log-mel input (max absolute difference of the normalised poses).
2. Cold start, alternated: a fresh process that computes the log-mel of the first windows of 60 s of
   speech and runs them through the generator, either importing torch and loading the checkpoint
   (what ``avs predict`` does) or importing onnxruntime and opening the exported graph. Reported:
   wall and CPU seconds (user + system) per process, medians.

Needs the ``onnx`` extra (``onnxruntime``, ``onnx``). This measures the network part alone, on a fixed
window; the path wired into ``avs predict`` (``avs export onnx``, ``--backend``) is measured end to end by
``bench_s2g_cold.py``.

Run: .venv/bin/python benchmarks/bench_onnx.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WINDOW = 256
MEL_FRAMES = 1 + (round(WINDOW * 16000 / 15) + 240 - 400) // 160


def export(onnx_path: Path) -> float:
    """Export the bundled generator; return the max |onnxruntime − torch| on random input."""
    import numpy as np
    import onnxruntime as ort
    import torch

    from avs.checkpoint import load_generator
    from avs.plugins import discover

    method = discover().get("s2g")
    G, _, _ = load_generator(method, method.default_checkpoint, [])

    class Window(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.g = G

        def forward(self, mel: torch.Tensor) -> torch.Tensor:
            return self.g(mel, WINDOW)

    model = Window().eval()
    mel = torch.randn(1, MEL_FRAMES, 64) * 3 - 8
    torch.onnx.export(model, (mel,), str(onnx_path), input_names=["mel"], output_names=["pose"], dynamo=False)
    with torch.no_grad():
        want = model(mel).numpy()
    got = ort.InferenceSession(str(onnx_path)).run(None, {"mel": mel.numpy()})[0]
    return float(np.abs(got - want).max())


def child(backend: str, wav: Path, onnx_path: Path) -> None:
    t0 = time.perf_counter()
    import numpy as np

    from avs.audio import load_audio, log_mel

    audio = load_audio(wav, 16000)
    hop = round(224 * 16000 / 15)
    size = round(WINDOW * 16000 / 15) + 240
    mels = [log_mel(audio[s : s + size]) for s in range(0, audio.size - size + 1, hop)]
    if backend == "onnxruntime":
        import onnxruntime as ort

        session = ort.InferenceSession(str(onnx_path))
        for mel in mels:
            session.run(None, {"mel": mel[None]})
    else:
        import torch

        from avs.checkpoint import load_generator
        from avs.plugins import discover

        method = discover().get("s2g")
        G, _, _ = load_generator(method, method.default_checkpoint, [])
        G.eval()
        with torch.no_grad():
            for mel in mels:
                G(torch.from_numpy(np.ascontiguousarray(mel))[None], WINDOW)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"wall_s": time.perf_counter() - t0, "cpu_s": usage.ru_utime + usage.ru_stime,
                      "windows": len(mels), "peak_rss_mb": usage.ru_maxrss // 1024}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), Path(args.child[2]))
        return
    sys.path.insert(0, str(Path(__file__).parent))
    from bench_predict import make_speech

    with tempfile.TemporaryDirectory() as tmp:
        onnx_path, wav = Path(tmp) / "g.onnx", Path(tmp) / "speech.wav"
        parity = export(onnx_path)
        print(json.dumps({"bench": "onnx", "parity_max_abs": parity}), flush=True)
        make_speech(60.0, wav)
        runs: dict[str, list[dict]] = {"torch": [], "onnxruntime": []}
        for _ in range(args.rounds):
            for backend in runs:
                out = subprocess.run([sys.executable, __file__, "--child", backend, str(wav), str(onnx_path)],
                                     check=True, capture_output=True, text=True)
                runs[backend].append(json.loads(out.stdout.strip().splitlines()[-1]))
        for backend, rows in runs.items():
            print(json.dumps({"bench": "onnx", "backend": backend, "windows": rows[0]["windows"],
                              "cold_wall_s": round(statistics.median(r["wall_s"] for r in rows), 2),
                              "cold_cpu_s": round(statistics.median(r["cpu_s"] for r in rows), 2),
                              "peak_rss_mb": rows[0]["peak_rss_mb"]}), flush=True)


if __name__ == "__main__":
    main()
