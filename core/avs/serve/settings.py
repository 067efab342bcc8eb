"""Settings of ``avs serve`` (no gradio, no torch: the CLI builds them before importing either)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from avs.errors import AvsError


@dataclass(frozen=True)
class ServeSettings:
    """How the demo server runs.

    Attributes:
        host: interface to bind; ``127.0.0.1`` (this machine only) by default.
        port: TCP port.
        methods: method names to offer; empty = every installed method.
        checkpoints: ``{method: checkpoint}`` replacing bundled checkpoints.
        concurrency: inferences run at once; further requests wait in the queue.
        max_queue: requests waiting at most; more are refused with a message.
        max_upload_mb: largest upload in MiB (audio, photo), refused by the server before it is stored.
        max_audio_seconds: longest accepted audio (upload or recording).
        file_ttl_s: uploaded and generated files are deleted this many seconds after they were made.
        share: ask Gradio for a public share link (off by default; needs the internet).
        workdir: folder for uploads and outputs (default: a new temporary folder, removed at exit).
        device: ``cpu``, ``cuda`` or ``auto`` for the models.
    """

    host: str = "127.0.0.1"
    port: int = 7860
    methods: tuple[str, ...] = ()
    checkpoints: dict[str, Path] = field(default_factory=dict)
    concurrency: int = 1
    max_queue: int = 32
    max_upload_mb: float = 50.0
    max_audio_seconds: float = 60.0
    file_ttl_s: float = 3600.0
    share: bool = False
    workdir: Path | None = None
    device: str = "cpu"

    def check(self) -> ServeSettings:
        """Return self after checking every value.

        Raises:
            AvsError: a port outside 1–65535 or a non-positive limit.
        """
        if not 0 < self.port < 65536:
            raise AvsError(f"--port must be 1-65535, got {self.port}")
        for name in ("concurrency", "max_queue", "max_upload_mb", "max_audio_seconds", "file_ttl_s"):
            if getattr(self, name) <= 0:
                raise AvsError(f"--{name.replace('_', '-')} must be positive, got {getattr(self, name)}")
        if self.device not in ("cpu", "cuda", "auto"):
            raise AvsError(f"--device must be cpu, cuda or auto, got {self.device!r}")
        return self


def parse_checkpoints(items: list[str]) -> dict[str, Path]:
    """``["s2g=runs/s2g/best.safetensors"]`` → ``{"s2g": Path(...)}``.

    Raises:
        AvsError: an item not of the form ``METHOD=PATH``.
    """
    out: dict[str, Path] = {}
    for item in items:
        name, sep, path = item.partition("=")
        if not sep or not name.strip() or not path.strip():
            raise AvsError(f"--checkpoint {item!r} is not of the form METHOD=PATH")
        out[name.strip()] = Path(path.strip())
    return out
