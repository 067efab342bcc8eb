"""The sdt method through the ``avs`` command line, as a user runs it: bad input and the bundled models."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from avs_sdt.evaluation import BUNDLED_POSE_VAE
from avs_sdt.plugin import DEFAULT_CHECKPOINT

REPO = Path(__file__).resolve().parents[3]


GESTURE_SUITE = {"l1_px", "pck@0.1", "pck@0.2", "bc_beat_sigma0.3s", "beat_align_aist_sigma3f", "l1div_px"}
"""Keys of core's gesture suite (avs.evaluation.gesture_metrics) that sdt's evaluate reports too."""


def avs(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS="1", COLUMNS="200")
    return subprocess.run([sys.executable, "-m", "avs.cli", *map(str, args)], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=600)


def _one_line_error(run: subprocess.CompletedProcess, text: str) -> None:
    assert run.returncode == 2, run.stdout + run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in run.stderr
    assert text in lines[0]


def test_sdt_vae_without_a_pose_vae_writes_nothing(sdt_root, tmp_path):
    run = avs("train", "sdt", "variant=sdt-vae", "model.width=16", "--data", sdt_root, "--out", tmp_path / "run")
    _one_line_error(run, "SDT-VAE needs a trained pose VAE: pass pose_vae_checkpoint=PATH")
    assert not (tmp_path / "run").exists()


def test_synth_refuses_a_non_empty_folder_and_bad_data_is_one_line(tmp_path):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "file.txt").write_text("mine")
    _one_line_error(avs("data", "synth", "sdt", tmp_path / "taken"), "not an empty folder")
    assert [p.name for p in (tmp_path / "taken").iterdir()] == ["file.txt"]
    speaker = tmp_path / "bad" / "alice"
    speaker.mkdir(parents=True)
    (speaker / "processed_137.csv").write_text("dataset,pose_fn\ntrain,a.npz,oops\n")
    _one_line_error(avs("train", "sdt", "--data", tmp_path / "bad", "--out", tmp_path / "run"),
                    "line 2: malformed row: 3 fields where the header has 2")
    assert not (tmp_path / "run").exists()


@pytest.mark.skipif(not DEFAULT_CHECKPOINT.is_file(), reason="no bundled checkpoint")
def test_bundled_checkpoint_predicts_real_speech(tmp_path):
    from avs.video import probe_video

    out = tmp_path / "demo.mp4"
    run = avs("predict", "sdt", REPO / "examples" / "librivox_0890.wav", "--out", out, "--save-npz", "seed=2")
    assert run.returncode == 0, run.stderr
    info = probe_video(out)
    assert info.fps == 15 and info.num_frames == round(5.3 * 15) and info.has_audio
    assert (info.width, info.height) == (1280, 720)
    assert out.with_suffix(".npz").is_file()


@pytest.mark.skipif(not (DEFAULT_CHECKPOINT.is_file() and BUNDLED_POSE_VAE.is_file()), reason="no bundled models")
def test_bundled_evaluate_with_ftd_videos_and_pca(sdt_root, tmp_path):
    run = avs("evaluate", "sdt", "--data", sdt_root, "--split", "dev", "--json", tmp_path / "m.json",
              "--videos", "1", "--videos-dir", tmp_path / "videos", "render.width=640", "render.height=360",
              cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    metrics = json.loads((tmp_path / "m.json").read_text())["metrics"]
    assert set(metrics) == {"l1", "l2_px", "lip_sync_error", "ftd", "ftd_mu_logvar"} | GESTURE_SUITE
    assert len(list((tmp_path / "videos").glob("*.mp4"))) == 1
    assert (tmp_path / "sdt_templates_pca.png").is_file()
