"""EmoTalk at the reference's size (``model.encoder=large``, 641 M parameters) on CPU: speed, memory, precision.

One process writes a checkpoint of the large network with random weights (seed 0; the output layer,
zero-initialised for training, gets PyTorch's default Linear initialisation so that the outputs are
not all zero and precisions can be compared), stored in float32 (2.6 GB). Then, for each variant, a
fresh process loads it the way ``avs predict`` does (:func:`avs.checkpoint.load_impl` with the variant's
overrides) and runs :func:`avs_emotalk.inference.predict_raw` on ``--seconds`` of real speech.

Variants: ``fp32`` (``infer.dtype=float32``), ``bf16`` (``infer.dtype=bfloat16``: weights and matmuls in
bfloat16), and ``fp32-wN`` / ``bf16-wN`` (the same with ``infer.window_frames=N``: the encoders see N
frames at a time, windows overlapping by ``infer.overlap_frames``, cross-faded). Reported per variant:
load seconds and the peak resident memory of the process until the model is loaded (``VmHWM``, Linux),
wall and CPU seconds of the prediction, the real-time factor (audio seconds per wall second), the peak
during prediction alone (``VmHWM`` after resetting it through ``/proc/self/clear_refs``) and of the whole
process (the larger of the two; resident memory counts the checkpoint file's mapped pages); and, against
``fp32``, the max and mean absolute difference of the 52 raw blendshape weights.

The speech is every distinct real recording at hand, joined: the bundled LibriVox clips (12 s), plus
the sample videos' sound tracks when ``--samples DIR`` is given (the project's shared samples: 56 s
more), repeated to ``--seconds``.

Run: .venv/bin/python benchmarks/bench_emotalk_large.py [--seconds 60] [--threads 2] [--variants fp32 bf16]
     [--samples ../shared/samples]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def _speech(seconds: float, samples: Path | None) -> np.ndarray:
    from avs.audio import load_audio

    paths = sorted((REPO / "examples").glob("librivox_*.wav"))
    if samples is not None:
        paths += sorted((samples / "video").glob("*.mp4"))
    joined = np.concatenate([load_audio(p, 16000) for p in paths])
    return np.resize(joined, int(seconds * 16000)).astype(np.float32)


def _vm_hwm_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _reset_peak() -> None:
    import gc

    gc.collect()
    Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current resident size


def make_checkpoint(path: Path) -> None:
    import torch

    from avs.checkpoint import save_checkpoint
    from avs.config import build_config
    from avs.plugins import discover
    from avs_emotalk.config import EmoTalkConfig
    from avs_emotalk.model import build_generator

    torch.manual_seed(0)
    cfg = build_config(EmoTalkConfig)
    G = build_generator(cfg)
    G.bs_map_r.reset_parameters()  # zero-initialised for training: random here, so outputs can be compared
    save_checkpoint(path, {"generator": G.state_dict()}, method=discover().get("emotalk"), cfg=cfg, stats={},
                    half=False)


def child(variant: str, ckpt: Path, seconds: float, threads: int, samples: Path | None, out: Path) -> dict:
    import torch

    from avs.checkpoint import load_impl
    from avs.plugins import discover
    from avs_emotalk.inference import predict_raw
    from avs_emotalk.model import count_parameters

    torch.set_num_threads(threads)
    precision, _, window = variant.partition("-w")
    overrides = [f"infer.dtype={'bfloat16' if precision == 'bf16' else 'float32'}"]
    if window:
        overrides.append(f"infer.window_frames={int(window)}")
    audio = _speech(seconds, samples)
    t0 = time.perf_counter()
    impl = load_impl(discover().get("emotalk"), ckpt, overrides)
    load_s, load_peak = time.perf_counter() - t0, _vm_hwm_mb()
    G = impl.generator
    _reset_peak()
    c0, t0 = time.process_time(), time.perf_counter()
    weights, _ = predict_raw(G, audio, impl.cfg)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    np.save(out, weights)
    return {"bench": "emotalk-large", "variant": variant, "dtype": str(next(G.parameters()).dtype),
            "params_m": round(count_parameters(G) / 1e6), "audio_s": seconds, "threads": threads,
            "window_frames": int(impl.cfg.infer.window_frames), "load_s": round(load_s, 1),
            "peak_after_load_mb": round(load_peak), "wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
            "realtime_factor": round(seconds / wall, 2), "peak_inference_mb": round(_vm_hwm_mb()),
            "peak_process_mb": round(max(load_peak, _vm_hwm_mb()))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--variants", nargs="+", default=["fp32", "bf16"])
    parser.add_argument("--rounds", type=int, default=1, help="runs of each variant, alternated")
    parser.add_argument("--samples", type=Path, help="the shared samples folder (its videos' speech is used too)")
    parser.add_argument("--checkpoint", type=Path, help="reuse this large random checkpoint (made if missing)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--make", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.make:
        make_checkpoint(args.checkpoint)
        return
    if args.child:
        print(json.dumps(child(args.child, args.checkpoint, args.seconds, args.threads, args.samples, args.out)),
              flush=True)
        return
    with tempfile.TemporaryDirectory() as tmp:
        ckpt = args.checkpoint or Path(tmp) / "large.safetensors"
        if not ckpt.exists():
            subprocess.run([sys.executable, __file__, "--make", "--checkpoint", str(ckpt)], check=True)
        outputs: dict[str, np.ndarray] = {}
        for r in range(args.rounds):
            for variant in args.variants:
                out = Path(tmp) / f"{variant}.npy"
                cmd = [sys.executable, __file__, "--child", variant, "--checkpoint", str(ckpt), "--seconds",
                       str(args.seconds), "--threads", str(args.threads), "--out", str(out)]
                if args.samples is not None:
                    cmd += ["--samples", str(args.samples)]
                run = subprocess.run(cmd, capture_output=True, text=True)
                if run.returncode:
                    print(json.dumps({"bench": "emotalk-large", "variant": variant,
                                      "failed": run.stderr.strip().splitlines()[-3:]}), flush=True)
                    continue
                print(json.dumps({**json.loads(run.stdout.strip().splitlines()[-1]), "round": r}), flush=True)
                outputs[variant] = np.load(out)
        if "fp32" in outputs:
            ref = outputs["fp32"]
            for variant, w in outputs.items():
                if variant != "fp32":
                    diff = np.abs(w - ref)
                    print(json.dumps({"bench": "emotalk-large", "variant": variant,
                                      "vs_fp32_max_abs": float(diff.max()), "vs_fp32_mean_abs": float(diff.mean()),
                                      "fp32_output_abs_mean": float(np.abs(ref).mean())}), flush=True)


if __name__ == "__main__":
    main()
