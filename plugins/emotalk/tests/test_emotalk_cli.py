"""The commands a user types: predict (video, frame count, exports), bad input (one line, exit 2, nothing
written), data synth, train and evaluate on bad data. Run in-process through ``avs.cli.main``."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from avs.audio import write_wav
from avs.checkpoint import save_checkpoint
from avs.cli import main
from avs.plugins import discover
from avs.video import probe_video

SMALL_RENDER = ["render.height=128", "render.width=128"]


@pytest.fixture(autouse=True)
def _wide_console(monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "300")  # Rich wraps at the terminal width; keep an error on one line


def _cli(capsys, *args: str) -> tuple[int, str, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture()
def checkpoint(tmp_path, small_G, small_cfg, synth_stats) -> Path:
    method = discover().get("emotalk")
    return save_checkpoint(tmp_path / "small.safetensors", small_G.state_dict(), method=method, cfg=small_cfg,
                           stats=synth_stats)


@pytest.fixture()
def wav(tmp_path, speech) -> Path:
    return write_wav(tmp_path / "speech.wav", speech[: int(2.37 * 16000)], 16000)


def test_predict_writes_video_and_exports(capsys, tmp_path, checkpoint, wav) -> None:
    out = tmp_path / "out" / "face.mp4"
    code, stdout, err = _cli(capsys, "predict", "emotalk", str(wav), "-c", str(checkpoint), "-o", str(out),
                             "--save-npz", "level=0", "person=3", *SMALL_RENDER)
    assert code == 0, err
    info = probe_video(out)
    frames = round(2.37 * 30)
    assert info.num_frames == frames and info.width == 128 and info.has_audio
    assert abs(info.audio_duration - frames / 30) < 0.05
    weights = np.load(out.with_suffix(".npy"))
    assert weights.shape == (frames, 52) and math.ceil(2.37 * 30) >= frames
    for suffix in (".csv", ".png", ".json", ".npz"):
        assert out.with_suffix(suffix).is_file(), suffix
    assert "face.csv" in stdout


@pytest.mark.parametrize(("override", "message"), [
    ("emotion=bored", "unknown emotion 'bored'"),
    ("person=24", "person must be 0-23"),
    ("level=3", "level must be 0"),
    ("level=high", "bad value for option 'level'"),
])
def test_predict_bad_controls(capsys, tmp_path, checkpoint, wav, override, message) -> None:
    out = tmp_path / "o" / "face.mp4"
    code, _, err = _cli(capsys, "predict", "emotalk", str(wav), "-c", str(checkpoint), "-o", str(out), override)
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not out.parent.exists() or list(out.parent.iterdir()) == []


def _bad_set(root: Path, frames: int, width: int) -> Path:
    for split in ("train", "dev"):
        folder = root / split
        folder.mkdir(parents=True)
        write_wav(folder / "03-01-01-01-01-01-01.wav", np.zeros(16000, np.float32), 16000)
        np.save(folder / "03-01-01-01-01-01-01.npy", np.zeros((frames, width), np.float32))
    return root


@pytest.mark.parametrize(("frames", "width", "message"), [(30, 50, "expected (T, 52)"), (40, 52, "more than 2 frames")])
def test_train_and_evaluate_on_bad_data(capsys, tmp_path, checkpoint, frames, width, message) -> None:
    data = _bad_set(tmp_path / "bad", frames, width)
    run = tmp_path / "run"
    code, _, err = _cli(capsys, "train", "emotalk", "--data", str(data), "--out", str(run), "model.encoder=small")
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not run.exists()
    code, _, err = _cli(capsys, "evaluate", "emotalk", "--data", str(data), "-c", str(checkpoint), "--split", "dev",
                        "--json", str(tmp_path / "e.json"))
    assert code == 2 and message in err and not (tmp_path / "e.json").exists()


def test_data_synth_refuses_a_non_empty_folder(capsys, tmp_path) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    code, _, err = _cli(capsys, "data", "synth", "emotalk", str(tmp_path / "full"))
    assert code == 2 and "not an empty folder" in err


def test_evaluate_json(capsys, tmp_path, checkpoint, synth_root) -> None:
    out = tmp_path / "eval.json"
    code, stdout, err = _cli(capsys, "evaluate", "emotalk", "--data", str(synth_root), "-c", str(checkpoint),
                             "--split", "test", "--json", str(out), "eval.max_pairs=2")
    assert code == 0, err
    assert "coef_mae_mouth_jaw" in out.read_text() and "emotion_accuracy" in stdout


def test_evaluate_renders_example_videos(capsys, tmp_path, checkpoint, synth_root) -> None:
    """``avs evaluate --videos 1``: prediction | ground truth, one frame per 1/30 s of the clip's audio."""
    out = tmp_path / "videos"
    code, _, err = _cli(capsys, "evaluate", "emotalk", "--data", str(synth_root), "-c", str(checkpoint),
                        "--split", "dev", "--videos", "1", "--videos-dir", str(out), "eval.max_pairs=1",
                        *SMALL_RENDER)
    assert code == 0, err
    (video,) = sorted(out.glob("*.mp4"))
    info = probe_video(video)
    duration = sf.info(str(synth_root / "dev" / "wav" / f"{video.stem}.wav")).duration
    assert info.num_frames == round(duration * 30) and info.width == 2 * 128 + 8 and info.has_audio


def test_registering_the_plugin_is_cheap() -> None:
    """The entry point and the config (``avs plugins``, ``avs info``) import neither torch nor transformers."""
    code = ("import sys\nimport avs_emotalk.plugin as p\nfrom avs.config import build_config\n"
            "[m] = p.avs_methods()\nbuild_config(m.config_class)\n"
            "print(sorted(k for k in ('torch', 'transformers', 'cv2', 'matplotlib') if k in sys.modules))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_benchmark_scores_blendshapes_with_baselines(capsys, tmp_path, checkpoint, synth_root) -> None:
    """``avs benchmark`` on blendshape data: emotalk scored by core's face-blendshape suite, with its
    own emotion accuracy and the ground-truth / neutral / mean-face rows; gesture methods are skipped."""
    out = tmp_path / "report"
    code, stdout, err = _cli(capsys, "benchmark", "--data", str(synth_root), "--split", "dev",
                             "--checkpoint", f"emotalk={checkpoint}", "--out", str(out))
    assert code == 0, err
    report = json.loads((out / "report.json").read_text())
    rows = report["rows"]
    assert {"emotalk", "ground truth", "neutral face", "mean face"} <= set(rows)
    assert rows["ground truth"]["coef_mae_all"] == 0.0
    assert "emotion_accuracy" in rows["emotalk"] and "coef_mae_mouth_jaw" in rows["emotalk"]
    assert rows["emotalk"]["coef_mae_all"] > 0 and rows["neutral face"]["coef_mae_all"] > 0  # an untrained model
    assert "s2g" in report["skipped"] and "sdt" in report["skipped"]
    assert "coef_mae_all ↓" in stdout and "emotion_accuracy ↑" in stdout


def test_benchmark_with_a_rig_reports_lve_and_eve(capsys, tmp_path, checkpoint, synth_root) -> None:
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "rig.npz", neutral=rng.normal(size=(30, 3)), deltas=rng.normal(size=(52, 30, 3)) * 0.01,
             lip_indices=np.arange(0, 10), eye_indices=np.arange(20, 30))
    out, rig = tmp_path / "report", tmp_path / "rig.npz"
    code, stdout, err = _cli(capsys, "benchmark", "--data", str(synth_root), "--split", "dev", "--methods", "emotalk",
                             "--checkpoint", f"emotalk={checkpoint}", "--set", f"emotalk:eval.rig={rig}",
                             "--out", str(out))
    assert code == 0, err
    rows = json.loads((out / "report.json").read_text())["rows"]
    assert rows["emotalk"]["lve"] > 0 and rows["emotalk"]["eve"] > 0 and rows["ground truth"]["lve"] == 0.0
    assert "lve ↓" in stdout
    code, _, err = _cli(capsys, "benchmark", "--data", str(synth_root), "--set", "emotalk=eval.rig=x", "--out",
                        str(tmp_path / "bad"))
    assert code == 2 and "METHOD:key=value" in err
