"""Export a training checkpoint as a compact fp16 one (for bundling with a plugin).

Usage: python scripts/export_checkpoint.py METHOD RUN/best.safetensors OUT.safetensors [key=value ...]

The overrides are written into the exported checkpoint's config (e.g. sdt's
``pose_vae_checkpoint=bundled``, so the bundled model finds the bundled pose VAE).
"""

from __future__ import annotations

import sys
from pathlib import Path

from avs.checkpoint import export_checkpoint
from avs.errors import AvsError
from avs.plugins import discover


def main(argv: list[str]) -> None:
    if len(argv) < 3:
        sys.exit(__doc__)
    name, source, target, *overrides = argv
    try:
        path = export_checkpoint(discover().get(name), source, target, overrides)
    except AvsError as exc:
        sys.exit(f"error: {exc}")
    print(f"wrote {path} ({Path(path).stat().st_size / 2**20:.2f} MiB, fp16)")


if __name__ == "__main__":
    main(sys.argv[1:])
