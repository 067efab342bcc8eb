"""phadtf costs on CPU: fine-tune step (ATC_net + memory GAN + PatchGAN) per preset, and predict of 10 s of speech.

Fine-tune: full D + G steps of ``variant=finetune`` on real batches of a synthetic prepared person (the step cost
depends on the preset's crop size and widths, not on the person); the seconds per epoch of a person are
``ceil(train GAN frames / batch)`` steps (phadtf_31: 298 frames) — printed for ``--epoch-frames``. Building
the person's renders/crops/face features once per run is extra (see the plugin README).
Predict: ``avs predict phadtf`` in a subprocess on ``--seconds`` of speech (wall time, peak RSS of the child).

Run: .venv/bin/python benchmarks/bench_phadtf.py [--preset small|paper|both] [--steps 2]
       [--checkpoint CKPT [--target PERSON]] [--speech WAV]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_train import seconds_per_step  # benchmarks/ is on sys.path when a script here runs

REPO = Path(__file__).resolve().parents[1]


def finetune_step(preset: str, steps: int, epoch_frames: int) -> dict:
    """Seconds per D + G step of the fine-tune at ``preset``'s sizes and its configured batch."""
    import torch

    from avs.config import build_config
    from avs.plugins import discover
    from avs_phadtf.config import PRESETS

    method = discover().get("phadtf")
    cfg = build_config(method.config_class, overrides=[*PRESETS[preset], "variant=finetune", "init=none",
                                                      "train.device=cpu"])
    cls = method.impl_class()
    with tempfile.TemporaryDirectory() as tmp:
        person = Path(tmp) / "data"
        cls.synthesize_data(person, cfg, 0)
        person = person / "synth_person"
        impl = cls(cfg, cls.compute_stats(cfg, person))
        t0 = time.perf_counter()
        dataset = impl.build_dataset(person, "train")
        assets_s = time.perf_counter() - t0
        batch_size = cfg.train.batch_size
        loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=True, drop_last=True,
                                             collate_fn=impl.collate)
        batch = next(iter(loader))
    impl.device = torch.device("cpu")
    per_step = seconds_per_step(impl, batch, steps)
    nets = impl.networks()
    return {"bench": "phadtf finetune step", "preset": preset, "threads": torch.get_num_threads(),
            "batch_size": batch_size, "image_size": cfg.gan.image_size,
            "g_params_m": round(sum(p.numel() for p in nets["generator"].parameters()) / 1e6, 2),
            "d_params_m": round(sum(p.numel() for p in nets["discriminator"].parameters()) / 1e6, 2),
            "s_per_step": round(per_step, 2), "epoch_frames": epoch_frames,
            "s_per_epoch": round(per_step * math.ceil(epoch_frames / batch_size), 1),
            "synthetic_person_assets_s": round(assets_s, 1)}


def predict(checkpoint: str | None, target: str | None, speech: Path, seconds: float) -> dict:
    """Wall time and child peak RSS of ``avs predict phadtf`` on ``seconds`` of speech."""
    import numpy as np
    import soundfile

    data, sr = soundfile.read(speech, dtype="float32", always_2d=True)
    mono = data.mean(axis=1)
    need = int(seconds * sr)
    mono = np.tile(mono, math.ceil(need / len(mono)))[:need]
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "speech.wav"
        soundfile.write(wav, mono, sr)
        cmd = [str(Path(sys.executable).parent / "avs"), "predict", "phadtf", str(wav),
               "--out", str(Path(tmp) / "o.mp4")]
        if checkpoint:
            cmd += ["--checkpoint", checkpoint]
        if target:
            cmd += [f"target={target}"]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ})
        wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"predict failed: {proc.stderr[-2000:]}")
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20  # KiB → GiB
    return {"bench": "phadtf predict", "checkpoint": checkpoint or "bundled general", "speech_s": seconds,
            "wall_s": round(wall, 1), "peak_rss_gib": round(rss, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", choices=["small", "paper", "both", "none"], default="both")
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--epoch-frames", type=int, default=298)
    parser.add_argument("--checkpoint", default=None, help="phadtf checkpoint for predict (default: bundled)")
    parser.add_argument("--target", default=None, help="prepared person (needed with a general checkpoint)")
    parser.add_argument("--speech", type=Path, default=REPO / "examples" / "librivox_0870.wav")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--no-predict", action="store_true")
    args = parser.parse_args()
    print(json.dumps({"loadavg": os.getloadavg()}), flush=True)
    for preset in {"both": ["small", "paper"], "none": []}.get(args.preset, [args.preset]):
        print(json.dumps(finetune_step(preset, args.steps, args.epoch_frames)), flush=True)
    if not args.no_predict:
        print(json.dumps(predict(args.checkpoint, args.target, args.speech, args.seconds)), flush=True)
    print(json.dumps({"loadavg": os.getloadavg()}), flush=True)


if __name__ == "__main__":
    main()
