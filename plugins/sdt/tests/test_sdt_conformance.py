"""sdt passes avs's conformance check (avs.testing.check_method) with a tiny network."""

from __future__ import annotations

from pathlib import Path

from avs.testing import check_method

TINY = ["model.width=16", "model.d_width=8", "pca_plot=", "ftd=false", "render.height=96", "render.width=160"]


def test_check_method(tmp_path: Path, sdt_root: Path):
    report = check_method("sdt", tmp_path, data=sdt_root, train_overrides=TINY)
    assert report.fps == 15.0 and report.sample_rate == 16000
    assert report.metrics
