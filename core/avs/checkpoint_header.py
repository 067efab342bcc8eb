"""A checkpoint's metadata without torch: method, config, statistics, stored networks (``docs/design.md``).

:func:`read_header` reads only the safetensors header (not the weights), so the torch-free inference path
(:mod:`avs.runtime`) and :func:`avs.checkpoint.load_checkpoint` check and decode checkpoints the same way.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from avs.errors import AvsError

FORMAT = "2"
"""Value of the ``avs_format`` metadata key written by this version."""

READABLE_FORMATS = ("1", "2")


@dataclass(frozen=True)
class CheckpointHeader:
    """What a checkpoint's safetensors header says.

    Attributes:
        path: the file.
        format: its ``avs_format`` (``"1"`` or ``"2"``).
        method_name: name of the method that wrote it.
        plugin_version: version of that method's plugin.
        config: the config it was trained with, as plain containers.
        stats: normalisation statistics (name → array of the saved dtype and shape).
        meta: the ``extra`` the writer stored (epoch, step, metrics...).
        networks: the stored network names.
    """

    path: Path
    format: str
    method_name: str
    plugin_version: str
    config: dict
    stats: dict[str, np.ndarray]
    meta: dict = field(default_factory=dict)
    networks: tuple[str, ...] = ()


def check_file(path: Path, what: str) -> None:
    """Raise AvsError for a missing path, a directory or an empty file (``what`` names it)."""
    if not path.exists():
        raise AvsError(f"{what} not found: {path}")
    if path.is_dir():
        raise AvsError(f"{what} {path} is a directory, not a file")
    if path.stat().st_size == 0:
        raise AvsError(f"{what} {path} is empty")


def not_safetensors(path: Path, exc: BaseException) -> AvsError:
    """The one-line error for a file safetensors cannot read (a pickle is named as such)."""
    with open(path, "rb") as fh:
        head = fh.read(4)
    hint = ""
    if head.startswith(b"PK\x03\x04") or head[:1] == b"\x80":
        hint = " (it looks like a PyTorch pickle; avs reads only .safetensors checkpoints)"
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return AvsError(
        f"checkpoint {path} is not a valid safetensors file (corrupt or truncated?): {reason}{hint}"
    )


def decode_stats(text: str) -> dict[str, np.ndarray]:
    """The ``stats`` metadata (``{name: {"dtype", "shape", "data"}}`` JSON) as arrays."""
    raw = json.loads(text)
    return {
        name: np.asarray(entry["data"], dtype=np.dtype(entry["dtype"])).reshape(entry["shape"])
        for name, entry in raw.items()
    }


def parse_metadata(path: Path, metadata: dict[str, str], method: Any = None) -> CheckpointHeader:
    """Check and decode a checkpoint's header metadata.

    Raises:
        AvsError: no avs metadata, an unknown format, a checkpoint of another method than ``method``
            (an :class:`avs.method.Method`, or None for any), corrupt JSON.
    """
    if "avs_format" not in metadata:
        raise AvsError(f"{path} is not an avs checkpoint (its safetensors header has no avs metadata)")
    if metadata["avs_format"] not in READABLE_FORMATS:
        raise AvsError(
            f"checkpoint {path} has format {metadata['avs_format']!r}; this avs reads formats "
            f"{', '.join(READABLE_FORMATS)} (upgrade avs)"
        )
    name = metadata.get("method", "")
    if method is not None and name != method.name:
        raise AvsError(f"checkpoint {path} was made for method {name!r}, not {method.name!r}")
    try:
        config = json.loads(metadata.get("config", "{}"))
        stats = decode_stats(metadata.get("stats", "{}"))
        meta = json.loads(metadata.get("extra", "{}"))
        names = json.loads(metadata.get("networks", "[]"))
    except (ValueError, KeyError, TypeError) as exc:
        raise AvsError(f"checkpoint {path} has corrupt metadata: {exc}") from None
    return CheckpointHeader(path, metadata["avs_format"], name, metadata.get("plugin_version", "?"), config,
                            stats, meta, tuple(str(n) for n in names))


def read_header(path: str | Path, method: Any = None) -> CheckpointHeader:
    """Read a checkpoint's header (metadata only, no weights, no torch).

    Args:
        path: the ``.safetensors`` file.
        method: if given, the checkpoint must have been made for this :class:`avs.method.Method`.

    Raises:
        AvsError: as :func:`avs.checkpoint.load_checkpoint` (missing, empty, not safetensors, no avs
            metadata, unknown format, another method's).
    """
    from safetensors import safe_open

    path = Path(path)
    check_file(path, "checkpoint")
    try:
        with safe_open(str(path), framework="numpy") as f:
            metadata = f.metadata() or {}
    except Exception as exc:  # SafetensorError, OSError, ValueError...
        raise not_safetensors(path, exc) from None
    return parse_metadata(path, metadata, method)


def file_sha256(path: str | Path, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes (read in 1 MiB chunks): what binds an ONNX sidecar to its checkpoint."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()
