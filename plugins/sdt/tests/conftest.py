"""Shared fixtures of the sdt tests: a small synthetic data set, configs, statistics, real speech."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")

REPO = Path(__file__).resolve().parents[3]
SPEECH = sorted((REPO / "examples").glob("librivox_*.wav"))
TINY = ["model.width=16", "model.d_width=8", "pca_plot=", "ftd=false"]
"""A very narrow network for fast unit tests (encoder 4/8/16/16 channels)."""


@pytest.fixture(scope="session")
def speech() -> np.ndarray:
    """Real speech: the bundled LibriVox samples joined, (N,) float32 at 16 kHz (12.4 s)."""
    from avs.audio import load_audio

    return np.concatenate([load_audio(p, 16000) for p in SPEECH])


@pytest.fixture(scope="session")
def sdt_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic set (2 training variants per speaker, 1 per eval split): ~45 clips, ~3 s."""
    from avs_sdt.synth import synthesize

    root = tmp_path_factory.mktemp("sdt") / "data"
    synthesize(root, None, seed=0, train_variants=2, eval_variants=1)
    return root


def make_cfg(*overrides: str):
    """The sdt config with :data:`TINY` and ``overrides`` applied."""
    from avs.config import build_config
    from avs_sdt.config import SDTConfig

    return build_config(SDTConfig, overrides=[*TINY, *overrides])


@pytest.fixture()
def tiny_cfg():
    """SDT-BP with the tiny network (no FTD, no PCA plot)."""
    return make_cfg()


@pytest.fixture(scope="session")
def sdt_stats(sdt_root: Path) -> dict[str, np.ndarray]:
    """Statistics of the small set's training split (SDT-BP, hierarchical)."""
    from avs_sdt.data import compute_stats

    return compute_stats(make_cfg(), sdt_root)


@pytest.fixture()
def cfg_factory():
    """``make_cfg`` as a fixture (tests do not import conftest)."""
    return make_cfg
