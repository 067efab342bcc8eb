"""Export a training checkpoint as a compact fp16 one (for bundling with a plugin), with its ONNX graph.

Usage: python scripts/export_checkpoint.py METHOD RUN/best.safetensors OUT.safetensors [key=value ...]

The overrides are written into the exported checkpoint's config (e.g. sdt's
``pose_vae_checkpoint=bundled``, so the bundled model finds the bundled pose VAE). For a method with a
torch-free path (``Method.onnx``) the graph of the exported checkpoint is written beside it
(``OUT.onnx``, as ``avs export onnx METHOD OUT.safetensors``) when ``onnx`` and ``onnxruntime`` are
installed (``pip install 'avs-toolkit[onnx]'``); otherwise a note says how to make it later.
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
        method = discover().get(name)
        path = export_checkpoint(method, source, target, overrides)
        print(f"wrote {path} ({Path(path).stat().st_size / 2**20:.2f} MiB, fp16)")
        if method.onnx is None:
            return
        from avs.runtime import EXTRA_HINT, sidecar_path

        stale = sidecar_path(path)
        try:
            from avs.onnx_export import export_onnx

            graph = export_onnx(method, path)
        except AvsError as exc:
            if stale.is_file():
                stale.unlink()  # it belongs to the checkpoint just replaced
            print(f"note: no ONNX graph written ({exc}); later: avs export onnx {name} {path}  ({EXTRA_HINT})")
            return
        print(f"wrote {graph.path} ({graph.size_bytes / 2**20:.2f} MiB; onnxruntime vs torch max |difference| "
              f"{graph.max_abs_diff:.2g})")
    except AvsError as exc:
        sys.exit(f"error: {exc}")


if __name__ == "__main__":
    main(sys.argv[1:])
