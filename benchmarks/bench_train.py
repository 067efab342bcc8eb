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


def measure(plugin: str, overrides: list[str], steps: int, batch_size: int) -> dict:
    import torch

    from avs.config import build_config
    from avs.plugins import discover

    method = discover().get(plugin)
    cfg = build_config(method.config_class, overrides=[*overrides, f"train.batch_size={batch_size}"])
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "data"
        method.synthesize_data(root, cfg, 0)
        stats = method.compute_stats(cfg, root)
        dataset = method.build_dataset(cfg, root, "train", stats)
        loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=True, drop_last=True)
        batch = next(iter(loader))
    G, D = method.build_generator(cfg), method.build_discriminator(cfg)
    opt_g = torch.optim.Adam(G.parameters(), lr=cfg.train.lr_g)
    opt_d = torch.optim.Adam(D.parameters(), lr=cfg.train.lr_d)

    def step() -> None:
        opt_d.zero_grad()
        method.discriminator_loss(G, D, batch, cfg)[0].backward()
        opt_d.step()
        opt_g.zero_grad()
        method.generator_loss(G, D, batch, cfg)[0].backward()
        opt_g.step()

    step()  # warm-up
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    wall = time.perf_counter() - t0
    params = sum(p.numel() for p in G.parameters())
    return {"bench": "train", "plugin": plugin, "overrides": overrides, "threads": torch.get_num_threads(),
            "batch_size": batch_size, "g_params_m": round(params / 1e6, 2),
            "windows_per_s": round(steps * batch_size / wall, 1)}


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
