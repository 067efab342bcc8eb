"""pytest plugin of avs (entry point ``pytest11``): fixtures for method plugin tests.

Loaded automatically in any pytest run where ``avs-toolkit`` is installed. Fixtures:

- ``avs_speech``: path of a bundled real-speech recording (LibriVox, 16 kHz mono, 7.1 s).
- ``avs_cli``: ``avs_cli(*args, cwd=None, env=None)`` runs ``avs ARGS`` in a subprocess as a user
  would and returns the ``subprocess.CompletedProcess`` (text ``stdout``/``stderr``).
- ``avs_synth_data``: ``avs_synth_data(name, *overrides, seed=0)`` returns the folder of the method's
  synthetic data set (``avs data synth``), built once per test session for each argument set.

Importing this module imports neither torch nor any method.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from avs.testing import bundled_speech, run_cli, synth_data


@pytest.fixture(scope="session")
def avs_speech() -> Path:
    """A bundled real-speech recording: 7.1 s of LibriVox reading, 16 kHz mono."""
    return bundled_speech("librivox_0870")


@pytest.fixture(scope="session")
def avs_cli() -> Callable[..., Any]:
    """Run the ``avs`` command line in a subprocess (see :func:`avs.testing.run_cli`)."""
    return run_cli


@pytest.fixture(scope="session")
def avs_synth_data(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """Factory: a method's synthetic data set, built once per session per (name, overrides, seed)."""
    built: dict[tuple, Path] = {}

    def make(name: str, *overrides: str, seed: int = 0) -> Path:
        key = (name, overrides, seed)
        if key not in built:
            built[key] = synth_data(name, tmp_path_factory.mktemp(f"avs-synth-{name}") / "data", overrides, seed)
        return built[key]

    return make
