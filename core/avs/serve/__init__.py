"""``avs serve``: a browser demo and HTTP API for every installed method (extra ``avs-toolkit[serve]``).

Importing this package is cheap: Gradio and torch are imported by :func:`run` only, so the rest of the
CLI stays fast. Modules: :mod:`~avs.serve.settings` (limits), :mod:`~avs.serve.options` (a config
dataclass → form fields), :mod:`~avs.serve.backend` (the one link to the inference path),
:mod:`~avs.serve.app` (the Gradio page and API).
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import tempfile
import threading
import time
from pathlib import Path

from avs.errors import AvsError
from avs.serve.settings import ServeSettings

__all__ = ["ServeSettings", "run", "sweep"]


def sweep(folder: Path, max_age_s: float, now: float | None = None) -> list[Path]:
    """Delete the entries of ``folder`` last modified more than ``max_age_s`` seconds ago.

    Returns:
        the deleted paths.
    """
    now = time.time() if now is None else now
    removed = []
    for entry in folder.iterdir() if folder.is_dir() else []:
        try:
            if now - entry.stat().st_mtime > max_age_s:
                shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
                removed.append(entry)
        except OSError:  # deleted meanwhile, or in use: next sweep
            pass
    return removed


def _start_janitor(folder: Path, ttl: float) -> None:
    period = max(1.0, min(ttl / 2, 60.0))

    def loop() -> None:
        while True:
            time.sleep(period)
            sweep(folder, ttl)

    threading.Thread(target=loop, name="avs-serve-janitor", daemon=True).start()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run(settings: ServeSettings) -> None:
    """Start the demo server and block until it is stopped (Ctrl+C).

    Raises:
        AvsError: Gradio is not installed (``pip install 'avs-toolkit[serve]'``), a bad setting, an
            unknown method, or a port already in use.
    """
    settings.check()
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if settings.workdir is None:
        workdir = Path(tempfile.mkdtemp(prefix="avs-serve-"))
        atexit.register(shutil.rmtree, workdir, True)
    else:
        workdir = Path(settings.workdir)
        workdir.mkdir(parents=True, exist_ok=True)
    os.environ["GRADIO_TEMP_DIR"] = str(workdir / "uploads")
    import socket

    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((settings.host, settings.port))
        except OSError as exc:
            raise AvsError(f"cannot listen on {settings.host}:{settings.port}: {exc.strerror}") from None
    try:
        import gradio  # noqa: F401
    except ImportError:
        raise AvsError("avs serve needs Gradio: pip install 'avs-toolkit[serve]'") from None

    from avs.serve.app import build_app
    from avs.serve.backend import Backend

    backend = Backend(settings.methods, settings.checkpoints, settings.device)
    demo = build_app(backend, settings, workdir)
    _start_janitor(workdir / "out", settings.file_ttl_s)
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops the server like Ctrl+C: temp folder removed
    demo.launch(server_name=settings.host, server_port=settings.port, share=settings.share,
                max_file_size=f"{settings.max_upload_mb:g}mb", allowed_paths=[str(workdir / "out")],
                ssr_mode=False, mcp_server=False, inbrowser=False, show_error=True)
