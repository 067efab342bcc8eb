"""Shared fixtures of the phadtf tests."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture()
def small_cfg():
    """The phadtf config with the small preset."""
    from avs.config import build_config
    from avs_phadtf.config import SMALL_PRESET, PhadtfConfig

    return build_config(PhadtfConfig, overrides=SMALL_PRESET)
