"""`avs benchmark` and the shared gesture suite: ordering on the synthetic set, reports, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from avs.errors import AvsError
from avs.evaluation import GestureClips, derangement, gesture_baselines, gesture_metrics
from cli_helpers import run_cli


@pytest.fixture(scope="module")
def synth(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("bench") / "data"
    result = run_cli("data", "synth", "s2g", str(root))
    assert result.returncode == 0, result.stderr
    return root


def test_benchmark_orders_model_and_baselines(synth: Path, tmp_path: Path):
    out = tmp_path / "report"
    result = run_cli("benchmark", "--data", str(synth), "--methods", "s2g", "--out", str(out))
    assert result.returncode == 0, result.stderr
    rows = json.loads((out / "report.json").read_text())["rows"]
    assert set(rows) == {"s2g", "ground truth", "mean pose", "mismatched"}
    model, mean, mismatched, truth = rows["s2g"], rows["mean pose"], rows["mismatched"], rows["ground truth"]
    # a trained model beats the mean pose and mismatched motion on held-out speech
    for baseline in (mean, mismatched):
        assert model["l1_px"] < baseline["l1_px"]
        assert model["pck@0.1"] > baseline["pck@0.1"]
        assert model["pck@0.2"] > baseline["pck@0.2"]
    # real motion has beats, a still mean pose has none
    assert truth["bc_beat_sigma0.3s"] > mean["bc_beat_sigma0.3s"] == 0.0
    assert truth["l1_px"] == 0.0 and truth["pck@0.2"] == 1.0
    table = (out / "report.md").read_text()
    assert "| s2g |" in table and "pck@0.2 ↑" in table and "l1_px ↓" in table
    assert (out / "pck_at_0.2.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_benchmark_metric_selection_and_bad_options(synth: Path, tmp_path: Path):
    ok = run_cli("benchmark", "--data", str(synth), "--metrics", "l1_px,pck@0.2", "--out", str(tmp_path / "r"))
    assert ok.returncode == 0, ok.stderr
    rows = json.loads((tmp_path / "r" / "report.json").read_text())["rows"]
    assert all(set(v) == {"l1_px", "pck@0.2"} for v in rows.values())
    for args, message in [
        (["--metrics", "l1_px,fid"], "unknown metric(s) fid"),
        (["--methods", "nosuch"], "unknown plugin 'nosuch'"),
        (["--checkpoint", "s2g"], "METHOD=PATH"),
        (["--split", "valid"], "unknown split"),
    ]:
        bad = run_cli("benchmark", "--data", str(synth), "--out", str(tmp_path / "bad"), *args)
        assert bad.returncode == 2 and bad.stderr.strip().startswith("error: ") and message in bad.stderr, bad.stderr
        assert "Traceback" not in bad.stderr
        assert not (tmp_path / "bad").exists()


def test_benchmark_data_no_method_can_read(tmp_path: Path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "notes.txt").write_text("no data here")
    result = run_cli("benchmark", "--data", str(tmp_path / "data"), "--out", str(tmp_path / "r"))
    assert result.returncode == 2 and "no method could be run" in result.stderr
    assert not (tmp_path / "r").exists()


def _clips(n: int = 4, t: int = 32, k: int = 5) -> GestureClips:
    rng = np.random.default_rng(0)
    gt = rng.normal(100, 20, size=(n, t, k, 2)).astype(np.float32)
    return GestureClips(pred=gt + 1, gt=gt, fps=15.0, audio=None, sample_rate=16000, scored=range(1, k),
                        mean_pose=gt.mean(axis=(0, 1)))


def test_gesture_metrics_hand_values_and_bad_input():
    clips = _clips()
    scores = gesture_metrics(clips)
    assert scores["l1_px"] == pytest.approx(1.0, abs=1e-5)  # every coordinate off by exactly 1 px
    base = gesture_baselines(clips)
    assert gesture_metrics(clips, pred=base["ground truth"])["l1_px"] == 0.0
    assert gesture_metrics(clips, pred=base["mean pose"])["l1div_px"] == 0.0
    perm = derangement(7, seed=3)
    assert sorted(perm) == list(range(7)) and not (perm == np.arange(7)).any()
    with pytest.raises(AvsError, match="differ in shape"):
        gesture_metrics(clips, pred=clips.pred[:, :10])
    nan = clips.pred.copy()
    nan[0, 0, 0, 0] = np.nan
    with pytest.raises(AvsError, match="NaN"):
        gesture_metrics(GestureClips(nan, clips.gt, 15.0, None, 16000, [1], clips.mean_pose))
    empty = np.zeros((0, 32, 5, 2), np.float32)
    with pytest.raises(AvsError, match="N > 0"):
        gesture_metrics(GestureClips(empty, empty, 15.0, None, 16000, [1], clips.mean_pose))


def test_a_method_failing_on_foreign_data_is_skipped_not_fatal(synth: Path, tmp_path: Path):
    """A plugin whose reader raises anything (here FileNotFoundError) is skipped with its reason."""
    from avs.benchmark import run_benchmark
    from avs.checkpoint import save_checkpoint
    from avs.config import build_config
    from avs.plugins import discover
    from toy_method import build_generator, make_method

    def clumsy_reader(self, data_root, split):
        raise FileNotFoundError(f"{data_root}/clumsy/index.csv")

    registry = discover()
    clumsy = make_method(name="clumsy", task="gesture-2d", build_dataset=clumsy_reader,
                         predict_clips=lambda self, dataset: None)
    cfg = build_config(clumsy.config_class)
    ckpt = save_checkpoint(tmp_path / "clumsy.safetensors", build_generator(cfg).state_dict(), method=clumsy,
                           cfg=cfg, stats={})
    methods = {"s2g": registry.get("s2g"), "clumsy": clumsy, "emotalk": registry.get("emotalk")}
    report = run_benchmark(methods, synth, "test", {"clumsy": ckpt}, suites=registry.suites)
    assert "s2g" in report.rows
    assert report.skipped["clumsy"] == f"cannot read this data: FileNotFoundError: {synth}/clumsy/index.csv"
    assert "emotalk" in report.skipped


def test_suites_are_registered_through_the_hook():
    from avs.evaluation import GestureClips
    from avs.plugins import discover
    from avs.tasks import BlendshapeClips

    suites = discover().suites
    assert suites["gesture-2d"].clips_type is GestureClips
    assert suites["face-blendshape"].clips_type is BlendshapeClips


def test_blendshape_metrics_hand_values_and_baselines():
    from avs.tasks import BlendshapeClips, blendshape_baselines, blendshape_metrics

    gt = [np.full((10, 4), 0.5, np.float32), np.full((30, 4), 0.25, np.float32)]
    pred = [g + 0.1 for g in gt]
    clips = BlendshapeClips(pred, gt, 30.0, {"mouth": [0, 1]}, mean_weights=np.full(4, 0.3, np.float32))
    scores = blendshape_metrics(clips)
    assert scores["coef_mae_all"] == pytest.approx(0.1) and scores["coef_mae_mouth"] == pytest.approx(0.1)
    assert scores["coef_velocity_mae"] == pytest.approx(0.0, abs=1e-6)
    base = blendshape_baselines(clips)
    assert base["ground truth"]["coef_mae_all"] == 0.0
    assert base["neutral face"]["coef_mae_all"] == pytest.approx((10 * 0.5 + 30 * 0.25) / 40)  # frame-weighted
    assert base["mean face"]["coef_mae_all"] == pytest.approx((10 * 0.2 + 30 * 0.05) / 40)
    with pytest.raises(AvsError, match="must be equal"):
        blendshape_metrics(clips, [g[:5] for g in gt])
