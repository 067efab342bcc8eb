"""Shared fixtures of the s2g tests: a synthetic data set, configs, real speech."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")

REPO = Path(__file__).resolve().parents[3]
SPEECH = sorted((REPO / "examples").glob("librivox_*.wav"))


@pytest.fixture(scope="session")
def speech() -> np.ndarray:
    """Real speech: the bundled LibriVox samples joined, (N,) float32 at 16 kHz (12.4 s)."""
    from avs.audio import load_audio

    return np.concatenate([load_audio(p, 16000) for p in SPEECH])


@pytest.fixture(scope="session")
def synth_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default synthetic data set (``avs data synth s2g``), built once per session (~6 s)."""
    from avs_s2g.synth import synthesize

    root = tmp_path_factory.mktemp("s2g") / "data"
    synthesize(root, None, seed=0)
    return root


@pytest.fixture()
def small_cfg():
    """The s2g config with the small preset (``SMALL_PRESET``)."""
    from avs.config import build_config
    from avs_s2g.config import SMALL_PRESET, S2GConfig

    return build_config(S2GConfig, overrides=SMALL_PRESET)


@pytest.fixture(scope="session")
def synth_stats(synth_root: Path) -> dict[str, np.ndarray]:
    """Normalisation statistics of the synthetic training split."""
    from avs.config import build_config
    from avs_s2g.config import S2GConfig
    from avs_s2g.data import compute_stats

    return compute_stats(build_config(S2GConfig), synth_root)
