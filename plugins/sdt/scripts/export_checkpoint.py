"""Export a training checkpoint of the sdt method as a compact fp16 one (for bundling with the plugin).

Usage: python plugins/sdt/scripts/export_checkpoint.py RUN/best.safetensors OUT.safetensors [key=value ...]

The overrides are written into the exported checkpoint's config (e.g. ``pose_vae_checkpoint=bundled``
so that the bundled SDT-BP model finds the bundled pose VAE for FTD).
"""

from __future__ import annotations

import sys
from pathlib import Path

from avs.checkpoint import load_checkpoint, save_checkpoint
from avs.config import build_config
from avs.plugins import discover


def main(src: str, dst: str, overrides: list[str]) -> None:
    method = discover().get("sdt")
    ckpt = load_checkpoint(Path(src), method)
    cfg = build_config(method.config_class, overrides=overrides, base=ckpt.config)
    extra = {k: v for k, v in ckpt.meta.items() if k in ("epoch", "step", "metrics")}
    save_checkpoint(Path(dst), ckpt.state_dict, method=method, cfg=cfg, stats=ckpt.stats, extra=extra, half=True)
    print(f"wrote {dst} ({Path(dst).stat().st_size / 2**20:.2f} MiB, fp16)")


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
