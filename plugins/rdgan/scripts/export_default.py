"""Write the bundled rdgan checkpoint: a run's generator + the audio→landmark model fitted on the data.

The generator's weights come from SOURCE (a trainer checkpoint such as ``RUN/last.safetensors``, or an earlier
bundled checkpoint); the config is the ``small`` experiment (plus any ``key=value`` overrides); the statistics
and the closed-form audio→landmark fit come from ``compute_stats`` on DATA (prepared face data). Stored in fp16,
inference networks only (no critics, no optimiser state).

Usage: python plugins/rdgan/scripts/export_default.py SOURCE DATA TARGET [key=value ...]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch
from safetensors import safe_open

from avs.checkpoint import save_checkpoint
from avs.config import build_config, resolve_experiment
from avs.plugins import discover


def main() -> None:
    if len(sys.argv) < 4:
        raise SystemExit(__doc__)
    source, data_root, target = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    method = discover().get("rdgan")
    cfg = build_config(method.config_class, resolve_experiment(method, "small"), sys.argv[4:])
    with safe_open(str(source), "pt") as f:
        generator = {k.split(".", 1)[1]: f.get_tensor(k).float() for k in f.keys() if k.startswith("generator.")}
        meta = f.metadata() or {}
    extra = {k: v for k, v in json.loads(meta.get("extra", "{}")).items() if k in ("epoch", "step")}
    cls = method.impl_class()
    stats = cls.compute_stats(cfg, data_root)
    impl = cls(cfg, stats)
    impl.generator.load_state_dict(generator, strict=True)
    nets = {name: impl.networks()[name].state_dict() for name in impl.inference_networks}
    with torch.no_grad():
        save_checkpoint(target, nets, method=method, cfg=cfg, stats=stats, extra=extra, half=True)
    print(f"wrote {target} ({target.stat().st_size / 2**20:.2f} MiB; a2l ridge λ {float(stats['a2l_lambda'][0])})")


if __name__ == "__main__":
    main()
