"""Start and stop ``avs serve`` for the demo tests (a real server process on a free localhost port)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cut_speech(source: Path, out: Path, seconds: float) -> Path:
    """The first ``seconds`` of ``source`` as a 16-bit WAV (a shorter request keeps the tests fast)."""
    import soundfile

    audio, rate = soundfile.read(str(source), dtype="float32")
    soundfile.write(str(out), np.ascontiguousarray(audio[: int(seconds * rate)]), rate, subtype="PCM_16")
    return out


class Server:
    """``avs serve`` in a subprocess; ``url`` once it answers."""

    def __init__(self, workdir: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.workdir = workdir
        self.log = workdir.parent / f"{workdir.name}.log"
        command = [str(Path(sys.executable).parent / "avs"), "serve", "--port", str(self.port),
                   "--workdir", str(workdir), *args]
        full_env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", **(env or {})}
        self._log_file = open(self.log, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(command, stdout=self._log_file, stderr=subprocess.STDOUT, env=full_env)

    def wait_ready(self, timeout: float = 120.0) -> float:
        """Seconds until the page answers 200.

        Raises:
            RuntimeError: the process died or did not answer in time (with its log).
        """
        start = time.perf_counter()
        while time.perf_counter() - start < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"avs serve exited with {self.proc.returncode}:\n{self.log.read_text()}")
            try:
                with urllib.request.urlopen(self.url, timeout=2) as response:
                    if response.status == 200:
                        return time.perf_counter() - start
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"avs serve did not answer within {timeout} s:\n{self.log.read_text()}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._log_file.close()
