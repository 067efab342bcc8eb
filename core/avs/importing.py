"""``avs import``: reference implementations' released weights → avs checkpoints."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from avs.errors import AvsError


def import_reference(method: Any, reference: str | Path, out: str | Path, overrides: Sequence[str] = (),
                     data_root: str | Path | None = None) -> Path:
    """Map ``reference`` onto ``method``'s generator and save it as an avs checkpoint.

    The plugin's ``import_weights`` reads the file (``torch.load(weights_only=True)`` for
    PyTorch files: nothing is unpickled) and renames its keys; the result is loaded
    strictly into a generator built on the meta device (its parameters become the imported
    tensors: a large network is never held twice), so a mismatch is reported, not ignored.

    Raises:
        AvsError: the method has no importer, the file is missing or not the reference's
            format, keys or shapes do not match, the output is not ``.safetensors``.
    """
    import torch

    from avs.checkpoint import load_state_strict, save_checkpoint
    from avs.config import build_config

    reference, out = Path(reference), Path(out)
    if method.import_weights is None:
        raise AvsError(f"method {method.name!r} has no importer for reference weights")
    if not reference.is_file():
        raise AvsError(f"reference weights not found: {reference}")
    if out.suffix != ".safetensors":
        raise AvsError(f"output must be a .safetensors file, got {out}")
    cfg = build_config(method.config_class, overrides=list(overrides))
    state, stats = method.import_weights(reference, cfg, Path(data_root) if data_root else None)
    with torch.device("meta"):
        generator = method.build_generator(cfg)
    load_state_strict(generator, state, str(reference), assign=True)
    leftover = [n for n, t in [*generator.named_parameters(), *generator.named_buffers()] if t.is_meta]
    if leftover:  # a buffer outside the state dict (non-persistent) cannot be imported
        raise AvsError(f"{reference} does not fit the model: {leftover[0]!r} has no value")
    return save_checkpoint(out, generator.state_dict(), method=method, cfg=cfg, stats=stats,
                           extra={"imported_from": reference.name})
