"""Helpers for core tests that run the ``avs`` CLI as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_cli(*args: str, env_extra: dict[str, str] | None = None, cwd: Path | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess:
    """Run ``avs`` in a subprocess exactly as a user would (exit code, stdout, stderr)."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1", COLUMNS="200")
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "avs.cli", *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=timeout)


def assert_one_error_line(result: subprocess.CompletedProcess, must_contain: str = "") -> str:
    """Exit status 2, exactly one non-empty stderr line starting with ``error: ``, no traceback.

    Returns:
        That line.
    """
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    assert must_contain.lower() in lines[0].lower(), lines[0]
    assert "Traceback" not in result.stderr + result.stdout
    return lines[0]
