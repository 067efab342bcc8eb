"""RD-GAN on CPU: training iterations per second (small preset) and predict time + peak RSS for 10 s of speech.

- ``train``: the ``small`` experiment (width 0.25, batch 4) on the synthetic face set (``avs data synth
  rdgan``), or on prepared face data with ``--data``; one iteration = ``train.d_steps`` (2) critic steps and one
  generator step (4 evaluations of both GANs, SSIM, L1, adversarial, parallelogram), each with backward and an
  RMSProp step, as core's trainer runs them. The first iteration is excluded (warm-up).
- ``predict``: ``avs predict``'s path (``avs.predict.predict_to_video``) with the bundled weights on scikit-image's
  astronaut photo and ``--seconds`` of the bundled LibriVox speech (looped): tracking the photo, the
  audio→landmark model, 250 recursive steps of both GANs, pasting into the photo, H.264 + the speech.

Each part runs in a fresh process (its own peak RSS, ``ru_maxrss``). The load average is printed with the result:
the machine is shared, so compare figures only at a similar load.

Run: OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_rdgan.py [--iterations 10] [--seconds 10] [--data DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def train(iterations: int, data: str | None) -> dict:
    import torch

    from avs.config import build_config, resolve_experiment
    from avs.plugins import discover

    method = discover().get("rdgan")
    cfg = build_config(method.config_class, resolve_experiment(method, "small"), ["train.device=cpu"])
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(data) if data else Path(tmp) / "synth"
        if not data:
            method.impl_class().synthesize_data(root, cfg, 0)
        cls = method.impl_class()
        t0 = time.perf_counter()
        stats = cls.compute_stats(cfg, root)
        torch.manual_seed(0)
        impl = cls(cfg, stats)
        dataset = impl.build_dataset(root, "train")
        load_s = time.perf_counter() - t0
    impl.set_mode(True)
    opts = impl.configure_optimizers()
    b = int(cfg.train.batch_size)
    rng = np.random.default_rng(0)

    def batch() -> dict:
        return torch.utils.data.default_collate([dataset[int(i)] for i in rng.integers(0, len(dataset), b)])

    times = []
    for _ in range(iterations + 1):
        items = [batch() for _ in range(int(cfg.train.d_steps) + 1)]
        t = time.perf_counter()
        for bd in items[:-1]:
            opts["discriminator"].zero_grad()
            loss, _ = impl.discriminator_step(bd)
            loss.backward()
            opts["discriminator"].step()
        opts["generator"].zero_grad()
        loss, _ = impl.generator_step(items[-1])
        loss.backward()
        opts["generator"].step()
        times.append(time.perf_counter() - t)
    per = float(np.median(times[1:]))
    return {"part": "train", "preset": "small", "data": data or "synthetic", "batch": b,
            "d_steps": int(cfg.train.d_steps), "iterations": iterations, "s_per_iteration": round(per, 3),
            "iterations_per_s": round(1 / per, 3), "data_load_s": round(load_s, 1),
            "peak_rss_mib": round(_rss_mib(), 1),
            "threads": torch.get_num_threads()}


def predict(seconds: float) -> dict:
    import imageio.v3 as iio
    import skimage.data
    import torch

    from avs.api import load_audio, write_wav
    from avs.plugins import discover
    from avs.predict import predict_to_video

    method = discover().get("rdgan")
    speech = np.concatenate([load_audio(p, 16000) for p in sorted((REPO / "examples").glob("librivox_*.wav"))])
    audio = np.resize(speech, int(seconds * 16000)).astype(np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        wav = write_wav(Path(tmp) / "speech.wav", audio, 16000)
        photo = Path(tmp) / "astronaut.png"
        iio.imwrite(photo, skimage.data.astronaut())
        t = time.perf_counter()
        result = predict_to_video(method, wav, method.default_checkpoint, Path(tmp) / "out.mp4",
                                  inputs={"face": photo})
        wall = time.perf_counter() - t
    return {"part": "predict", "speech_s": seconds, "frames": result.num_frames, "predict_s": round(wall, 2),
            "realtime_factor": round(seconds / wall, 3), "peak_rss_mib": round(_rss_mib(), 1),
            "threads": torch.get_num_threads()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--iterations", type=int, default=10)
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--data", default=None, help="prepared face data (default: the synthetic set)")
    p.add_argument("--part", choices=["train", "predict"], default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.part == "train":
        print(json.dumps(train(args.iterations, args.data)))
        return
    if args.part == "predict":
        print(json.dumps(predict(args.seconds)))
        return
    for part in ("train", "predict"):
        load = os.getloadavg()[0]
        cmd = [sys.executable, __file__, "--part", part, "--iterations", str(args.iterations),
               "--seconds", str(args.seconds)] + (["--data", args.data] if args.data else [])
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
        row = json.loads(out)
        row["load_avg_1min_before"] = round(load, 2)
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
