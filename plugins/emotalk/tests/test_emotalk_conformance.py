"""emotalk passes avs's conformance check (avs.testing.check_method) with the small encoder."""

from __future__ import annotations

from pathlib import Path

from avs.testing import check_method

SMALL = ["model.encoder=small", "model.content_dim=128", "model.emotion_dim=64", "render.height=96",
         "render.width=96"]


def test_check_method(tmp_path: Path, synth_root: Path):
    report = check_method("emotalk", tmp_path, data=synth_root, train_overrides=SMALL)
    assert report.fps == 30.0 and report.sample_rate == 16000
    assert report.metrics
