"""Training throughput on CPU: windows per second of full G + D steps (LSGAN + L1).

Uses the method's own networks and losses on real batches of its synthetic data set.
Run: .venv/bin/python benchmarks/bench_train.py [--plugin s2g] [--preset small|paper] [--steps 5]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any


def measure(plugin: str, overrides: list[str], steps: int, batch_size: int) -> dict:
    import torch

    from avs.config import build_config
    from avs.plugins import discover

    method = discover().get(plugin)
    cfg = build_config(method.config_class, overrides=[*overrides, f"train.batch_size={batch_size}"])
    cls = method.impl_class()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "data"
        cls.synthesize_data(root, cfg, 0)
        impl = cls(cfg, cls.compute_stats(cfg, root))
        dataset = impl.build_dataset(root, "train")
        loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=True, drop_last=True,
                                             collate_fn=impl.collate)
        batch = next(iter(loader))
    wall = seconds_per_step(impl, batch, steps) * steps
    params = sum(p.numel() for p in impl.networks()["generator"].parameters())
    return {"bench": "train", "plugin": plugin, "overrides": overrides, "threads": torch.get_num_threads(),
            "batch_size": batch_size, "g_params_m": round(params / 1e6, 2),
            "windows_per_s": round(steps * batch_size / wall, 1)}


def seconds_per_step(impl: Any, batch: Any, steps: int) -> float:
    """Mean wall seconds of one training step on ``batch`` after one warm-up step: a discriminator step
    (when the method has that optimiser), then a generator step, as the trainer does."""
    opts = impl.configure_optimizers()

    def step() -> None:
        if "discriminator" in opts:
            opts["discriminator"].zero_grad()
            impl.discriminator_step(batch)[0].backward()
            opts["discriminator"].step()
        opts["generator"].zero_grad()
        impl.generator_step(batch)[0].backward()
        opts["generator"].step()

    step()  # warm-up
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - t0) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--plugin", default="s2g")
    parser.add_argument("--preset", choices=["small", "paper", "both"], default="both")
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    from avs_s2g.config import SMALL_PRESET

    presets = {"small": list(SMALL_PRESET), "paper": []}
    names = ["small", "paper"] if args.preset == "both" else [args.preset]
    for name in names:
        result = measure(args.plugin, presets[name], args.steps, args.batch_size)
        result["preset"] = name
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
