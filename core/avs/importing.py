"""``avs import``: reference implementations' released weights → avs checkpoints."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from avs.errors import AvsError


def import_reference(method: Any, reference: str | Path, out: str | Path, overrides: Sequence[str] = (),
                     data_root: str | Path | None = None) -> Path:
    """Map ``reference`` onto ``method``'s generator and save it as an avs checkpoint.

    The implementation's ``import_weights`` reads the file (``torch.load(weights_only=True)``
    for PyTorch files: nothing is unpickled) and renames its keys; it returns ``(state, stats)``
    or ``(state, stats, cfg)`` when the weights fix options (width, variant...). The result is
    loaded strictly into the implementation built from that config and statistics on the meta
    device (its parameters become the imported tensors: a large network is never held twice),
    so a mismatch is reported, not ignored.

    Raises:
        AvsError: the method has no importer, the file is missing or not the reference's
            format, keys or shapes do not match, the output is not ``.safetensors``.
    """
    import torch

    from avs.checkpoint import as_networks, build_impl, load_networks, save_checkpoint
    from avs.config import build_config

    reference, out = Path(reference), Path(out)
    cls = method.impl_class()
    cls.require("import_weights")
    if not reference.is_file():
        raise AvsError(f"reference weights not found: {reference}")
    if out.suffix != ".safetensors":
        raise AvsError(f"output must be a .safetensors file, got {out}")
    cfg = build_config(method.config_class, overrides=list(overrides))
    state, stats, *fitted = cls.import_weights(reference, cfg, Path(data_root) if data_root else None)
    with torch.device("meta"):  # the parameters become the imported tensors: a large network is never held twice
        impl = build_impl(method, fitted[0] if fitted else cfg, stats)
    load_networks(impl, as_networks(state), str(reference), assign=True)
    nets = impl.networks()
    weights = {name: nets[name].state_dict() for name in impl.inference_networks if name in nets}
    leftover = [f"{n}.{k}" for n in weights for k, t in weights[n].items() if t.is_meta]
    if leftover:  # a buffer outside the state dict (non-persistent) cannot be imported
        raise AvsError(f"{reference} does not fit the model: {leftover[0]!r} has no value")
    return save_checkpoint(out, weights, method=method, cfg=impl.cfg, stats=impl.stats,
                           extra={"imported_from": reference.name})
