"""Speed of the sdt plugin on this machine (CPU): numbers quoted in the README.

Usage: OMP_NUM_THREADS=1 .venv/bin/python plugins/sdt/scripts/benchmark.py [--steps N] [--json OUT]

1. ``avs predict`` end to end on 60 s of real speech (the bundled LibriVox samples, repeated):
   audio → windows → generator → 137 keypoints → 1280×720 stick-figure frames → H.264/AAC mp4,
   with the bundled checkpoint (small preset) and with a paper-width SDT-BP (random weights; time only).
2. SDT-BP training windows per second (forward, backward, Adam step of the generator and its
   template table; batch 16 of 64-frame clips) at the small preset and at the paper width.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from avs.audio import load_audio, write_wav
from avs.checkpoint import save_checkpoint
from avs.config import build_config
from avs.plugins import discover
from avs.predict import predict_to_video
from avs_sdt.config import SMALL_PRESET, SDTConfig
from avs_sdt.model import build_generator
from avs_sdt.recipe import generator_loss

REPO = Path(__file__).resolve().parents[3]


def _speech(seconds: float) -> np.ndarray:
    clips = [load_audio(p, 16000) for p in sorted((REPO / "examples").glob("librivox_*.wav"))]
    joined = np.concatenate(clips)
    return np.tile(joined, int(np.ceil(seconds * 16000 / joined.size)))[: int(seconds * 16000)]


def bench_predict(method, checkpoint: Path, audio_path: Path, out: Path) -> dict:
    began = time.perf_counter()
    result = predict_to_video(method, audio_path, checkpoint, out)
    seconds = time.perf_counter() - began
    return {"seconds": round(seconds, 2), "frames": result.num_frames, "audio_s": round(result.duration, 2),
            "x_realtime": round(result.duration / seconds, 2)}


def bench_train(preset: list[str], steps: int, batch: int = 16) -> dict:
    cfg = build_config(SDTConfig, overrides=[*preset, "model.num_templates=256"])
    torch.manual_seed(0)
    G = build_generator(cfg)
    opt = torch.optim.Adam(G.parameters(), lr=1e-4)
    data = {"mel": torch.rand(batch, 80, 427) * 100, "pose": torch.randn(batch, 64, 242),
            "template_index": torch.arange(batch)}
    times = []
    for _ in range(steps + 1):  # the first step warms up
        began = time.perf_counter()
        loss, _ = generator_loss(G, None, data, cfg)
        opt.zero_grad()
        loss.backward()
        opt.step()
        times.append(time.perf_counter() - began)
    per_step = float(np.median(times[1:]))
    return {"params": sum(p.numel() for p in G.parameters()), "batch": batch,
            "seconds_per_step": round(per_step, 3), "windows_per_second": round(batch / per_step, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    method = discover().get("sdt")
    results: dict = {"torch_threads": torch.get_num_threads()}
    with tempfile.TemporaryDirectory() as tmp:
        audio = write_wav(Path(tmp) / "speech60.wav", _speech(60.0), 16000)
        if method.default_checkpoint is not None:
            results["predict_60s_bundled_small"] = bench_predict(method, method.default_checkpoint, audio,
                                                                 Path(tmp) / "a.mp4")
        cfg = build_config(SDTConfig, overrides=["model.num_templates=256"])
        torch.manual_seed(0)
        paper = save_checkpoint(Path(tmp) / "paper.safetensors", build_generator(cfg).state_dict(), method=method,
                                cfg=cfg, stats=_stats_of(method))
        results["predict_60s_paper_width"] = bench_predict(method, paper, audio, Path(tmp) / "b.mp4")
    results["train_sdt_bp_small"] = bench_train(SMALL_PRESET, args.steps)
    results["train_sdt_bp_paper"] = bench_train([], max(2, args.steps // 2))
    text = json.dumps(results, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


def _stats_of(method) -> dict:
    """The bundled checkpoint's statistics (any statistics of two speakers and 256 clips work)."""
    from avs.checkpoint import load_checkpoint

    if method.default_checkpoint is not None:
        stats = dict(load_checkpoint(method.default_checkpoint).stats)
    else:
        raise SystemExit("no bundled checkpoint: run plugins/sdt/scripts/train_default.sh first")
    stats["clip_speaker"] = np.resize(stats["clip_speaker"], 256).astype(np.int32)
    stats.pop("templates", None)
    return stats


if __name__ == "__main__":
    main()
