"""s2g passes avs's conformance check (avs.testing.check_method) with a tiny network."""

from __future__ import annotations

from pathlib import Path

from avs.testing import check_method

TINY = ["model.width=16", "model.d_width=8", "render.height=96", "render.width=160"]


def test_check_method(tmp_path: Path, synth_root: Path):
    report = check_method("s2g", tmp_path, data=synth_root, train_overrides=TINY)
    assert report.fps == 15.0 and report.sample_rate == 16000
    assert {"l1", "pck@0.2"} <= set(report.metrics)
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError:
        assert report.onnx_max_abs_diff is None
    else:  # torch-free predict (checked by the suite) agrees with torch to well under a pixel
        assert report.onnx_max_abs_diff is not None and report.onnx_max_abs_diff < 1e-2
