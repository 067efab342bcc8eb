"""Benchmark: predict 60 s of real speech on the CPU, wall time and peak RSS (README numbers).

Usage (from the repository root):
    .venv/bin/python plugins/emotalk/scripts/bench_predict.py --preset small   # the bundled checkpoint
    .venv/bin/python plugins/emotalk/scripts/bench_predict.py --preset large   # reference shapes, random weights

Each run is one process, so ``peak_rss_mb`` (``ru_maxrss``) covers building the model and predicting.
``predict_s`` is :func:`avs_emotalk.inference.predict` (windowed network + post-processing) on 60 s of
speech: the LibriVox samples repeated. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[3]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", choices=("small", "large"), default="small")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--checkpoint", default="", help="small preset: checkpoint (default: the bundled one)")
    args = parser.parse_args()

    import numpy as np
    import torch

    from avs.audio import load_audio
    from avs.checkpoint import load_generator
    from avs.config import build_config
    from avs.plugins import discover
    from avs_emotalk.config import EmoTalkConfig
    from avs_emotalk.inference import predict
    from avs_emotalk.model import build_generator, count_parameters

    torch.set_num_threads(args.threads)
    speech = np.concatenate([load_audio(p, 16000) for p in sorted((REPO / "examples").glob("librivox_*.wav"))])
    audio = np.resize(speech, int(args.seconds * 16000)).astype(np.float32)
    began = time.perf_counter()
    if args.preset == "small":
        method = discover().get("emotalk")
        checkpoint = args.checkpoint or str(method.default_checkpoint)
        G, cfg, stats = load_generator(method, checkpoint)
    else:
        cfg = build_config(EmoTalkConfig)  # the reference's shapes, random weights
        torch.manual_seed(0)
        G = build_generator(cfg).eval()
        stats = {}
    build_s = time.perf_counter() - began
    began = time.perf_counter()
    motion = predict(G, audio, cfg, stats)
    predict_s = time.perf_counter() - began
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"preset": args.preset, "params": count_parameters(G), "audio_s": args.seconds,
                      "frames": motion.num_frames, "threads": args.threads, "build_s": round(build_s, 2),
                      "predict_s": round(predict_s, 2), "realtime_factor": round(args.seconds / predict_s, 2),
                      "peak_rss_mb": round(peak)}))


if __name__ == "__main__":
    main()
