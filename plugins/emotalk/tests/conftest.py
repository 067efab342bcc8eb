"""Shared fixtures of the emotalk tests: a small synthetic data set, configs, a small generator, speech."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[3]
SPEECH = sorted((REPO / "examples").glob("librivox_*.wav"))


@pytest.fixture(scope="session")
def speech() -> np.ndarray:
    """Real speech: the bundled LibriVox samples joined, (N,) float32 at 16 kHz (12.4 s)."""
    from avs.audio import load_audio

    return np.concatenate([load_audio(p, 16000) for p in SPEECH])


@pytest.fixture(scope="session")
def synth_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic set (2 actors, normal intensity only; ``avs data synth emotalk`` uses 4 and both)."""
    from avs_emotalk.synth import synthesize

    root = tmp_path_factory.mktemp("emotalk") / "data"
    synthesize(root, None, seed=0, actors=2, intensities=(1,))
    return root


@pytest.fixture()
def small_cfg():
    """The emotalk config with the small preset (``SMALL_PRESET``)."""
    from avs.config import build_config
    from avs_emotalk.config import SMALL_PRESET, EmoTalkConfig

    return build_config(EmoTalkConfig, overrides=SMALL_PRESET)


@pytest.fixture(scope="session")
def synth_stats(synth_root: Path) -> dict[str, np.ndarray]:
    """Statistics of the small synthetic training split."""
    from avs.config import build_config
    from avs_emotalk.config import SMALL_PRESET, EmoTalkConfig
    from avs_emotalk.data import compute_stats

    return compute_stats(build_config(EmoTalkConfig, overrides=SMALL_PRESET), synth_root)


@pytest.fixture()
def small_G(small_cfg):
    """A randomly initialised small generator whose output layer is not zero (so outputs depend on inputs)."""
    import torch

    from avs_emotalk.model import build_generator

    torch.manual_seed(0)
    G = build_generator(small_cfg)
    torch.nn.init.normal_(G.bs_map_r.weight, std=0.05)
    return G
