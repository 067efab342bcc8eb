"""Shared fixtures for core tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "examples"
FIXTURES = Path(__file__).parent / "fixtures"

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def speech_path() -> Path:
    """Real speech: 7.1 s of LibriVox reading, 16 kHz mono."""
    return SAMPLES / "librivox_0870.wav"


@pytest.fixture(scope="session")
def fixture_plugins(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Install the fixture plugin distributions (avs-wave, avs-broken) into a fresh folder.

    They are installed with pip as a user would install a third-party plugin, into a
    target folder that tests put on ``sys.path``/``PYTHONPATH`` (the venv stays clean).
    """
    import shutil

    target = tmp_path_factory.mktemp("site")
    sources = tmp_path_factory.mktemp("fixture-sources")
    for name in ("avs-wave", "avs-broken"):
        source = shutil.copytree(FIXTURES / name, sources / name)  # pip builds in place: keep the repo clean
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
             "--no-index", "--target", str(target), str(source)],
            check=True, capture_output=True,
        )
    return target
