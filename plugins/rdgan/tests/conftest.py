"""Shared fixtures of the rdgan tests: a synthetic face set, a tiny config, real speech."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")

REPO = Path(__file__).resolve().parents[3]
SPEECH = sorted((REPO / "examples").glob("librivox_*.wav"))
SHARED_VIDEO = REPO.parent / "shared" / "samples" / "video"


@pytest.fixture(scope="session")
def speech() -> np.ndarray:
    """Real speech: the bundled LibriVox samples joined, (N,) float32 at 16 kHz."""
    from avs.audio import load_audio

    return np.concatenate([load_audio(p, 16000) for p in SPEECH])


@pytest.fixture(scope="session")
def synth_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic face set (``avs data synth rdgan``), built once per session (~1 s)."""
    from avs_rdgan.synth import synthesize

    root = tmp_path_factory.mktemp("rdgan") / "data"
    synthesize(root, None, seed=0)
    return root


@pytest.fixture()
def tiny_cfg():
    """The rdgan config at a quarter of the reference's width (fast on CPU)."""
    from avs.config import build_config
    from avs_rdgan.config import RDGANConfig

    return build_config(RDGANConfig, overrides=["model.width=0.25", "train.batch_size=2", "data.a2l_frames=16"])


@pytest.fixture(scope="session")
def synth_train(synth_root: Path):
    """The cropped training clips of the synthetic set."""
    from avs_rdgan.data import load_prepared

    return load_prepared(synth_root, "train")
