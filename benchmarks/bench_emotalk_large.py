"""EmoTalk at the reference's size (``model.encoder=large``, ~640 M parameters) on CPU: speed, memory, bf16.

For each weight precision (``fp32``; ``bf16`` = the network's weights and matmuls in bfloat16) a
fresh process builds the large network (random weights, seed 0: time and memory do not depend on
the values), and runs :func:`avs_emotalk.inference.predict_raw` (20 s windows with 1 s overlap, as
``avs predict``) on ``--seconds`` of real speech. Reported: wall seconds, CPU seconds, the real-time
factor (audio seconds per wall second), the peak resident memory of the whole process (``ru_maxrss``:
includes building the fp32 network before the bf16 cast) and the peak during inference alone
(``VmHWM`` after resetting it through ``/proc/self/clear_refs``, Linux). The bf16 outputs are
compared with fp32's on the same input (max and mean absolute difference of the raw blendshape
weights).

Run: .venv/bin/python benchmarks/bench_emotalk_large.py [--seconds 60] [--threads 2]
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

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def _speech(seconds: float) -> np.ndarray:
    from avs.audio import load_audio

    clips = [load_audio(p, 16000) for p in sorted((REPO / "examples").glob("librivox_*.wav"))]
    joined = np.concatenate(clips)
    return np.resize(joined, int(seconds * 16000)).astype(np.float32)


def _vm_hwm_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child(precision: str, seconds: float, threads: int, out: Path) -> dict:
    import torch

    from avs.config import build_config
    from avs_emotalk.config import EmoTalkConfig
    from avs_emotalk.inference import predict_raw
    from avs_emotalk.model import build_generator, count_parameters

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    cfg = build_config(EmoTalkConfig)
    t0 = time.perf_counter()
    G = build_generator(cfg).eval()
    if precision == "bf16":
        G = G.to(torch.bfloat16)
        G.register_forward_pre_hook(lambda _m, args: (args[0].to(torch.bfloat16), *args[1:]))
    build_s = time.perf_counter() - t0
    import gc

    gc.collect()
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak RSS (VmHWM)
    audio = _speech(seconds)
    c0, t0 = time.process_time(), time.perf_counter()
    weights, _ = predict_raw(G, audio, cfg)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    np.save(out, weights)
    return {"bench": "emotalk-large", "precision": precision, "params_m": round(count_parameters(G) / 1e6),
            "audio_s": seconds, "threads": threads, "build_s": round(build_s, 1), "wall_s": round(wall, 1),
            "cpu_s": round(cpu, 1), "realtime_factor": round(seconds / wall, 2),
            "peak_inference_mb": round(_vm_hwm_mb()),
            "peak_process_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--precision", nargs="+", default=["fp32", "bf16"])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.seconds, args.threads, args.out)), flush=True)
        return
    with tempfile.TemporaryDirectory() as tmp:
        outputs = {}
        for precision in args.precision:
            out = Path(tmp) / f"{precision}.npy"
            run = subprocess.run([sys.executable, __file__, "--child", precision, "--seconds", str(args.seconds),
                                  "--threads", str(args.threads), "--out", str(out)],
                                 capture_output=True, text=True)
            if run.returncode:
                print(json.dumps({"bench": "emotalk-large", "precision": precision,
                                  "failed": run.stderr.strip().splitlines()[-1:]}), flush=True)
                continue
            print(run.stdout.strip().splitlines()[-1], flush=True)
            outputs[precision] = np.load(out)
        if "fp32" in outputs and "bf16" in outputs:
            diff = np.abs(outputs["bf16"] - outputs["fp32"])
            print(json.dumps({"bench": "emotalk-large", "bf16_vs_fp32_max_abs": float(diff.max()),
                              "bf16_vs_fp32_mean_abs": float(diff.mean()),
                              "fp32_output_abs_mean": float(np.abs(outputs["fp32"]).mean())}), flush=True)


if __name__ == "__main__":
    main()
