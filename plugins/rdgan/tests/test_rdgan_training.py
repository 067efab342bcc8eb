"""RD-GAN training through core: ``--resume`` continues bit-identically, ``torchrun`` with two CPU processes
(gloo; each network DDP-wrapped apart, the parameter-free audio→landmark model left unwrapped), and training +
evaluation on a short slice of a real talking-face clip (skipped without the project's sample videos)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

SHARED_VIDEO = Path(__file__).resolve().parents[3].parent / "shared" / "samples" / "video"

TINY = ["model.width=0.25", "train.batch_size=2", "data.a2l_frames=16", "data.test_pairs=2", "train.device=cpu",
        "train.seed=0", "train.iterations_per_epoch=2", "train.d_steps=2"]


@pytest.fixture(scope="module")
def method():
    from avs.plugins import discover

    return discover().get("rdgan")


def _trainer(method, root: Path, out: Path, epochs: int, resume: bool = False):
    from rich.console import Console

    from avs.config import build_config
    from avs.train import Trainer

    cfg = build_config(method.config_class, overrides=[*TINY, f"train.epochs={epochs}"])
    return Trainer(method, cfg, root, out, resume=resume, console=Console(file=open(os.devnull, "w")))


def test_resume_is_bit_identical(method, synth_root: Path, tmp_path: Path) -> None:
    from avs.checkpoint import load_training_state

    _trainer(method, synth_root, tmp_path / "straight", 2).fit()
    _trainer(method, synth_root, tmp_path / "resumed", 1).fit()
    result = _trainer(method, synth_root, tmp_path / "resumed", 2, resume=True).fit()
    assert result.epoch == 2 and result.step == 4
    a = load_training_state(tmp_path / "straight" / "state.pt")
    b = load_training_state(tmp_path / "resumed" / "state.pt")
    assert a.networks.keys() == b.networks.keys() == {"generator", "discriminator", "audio2landmark"}
    for net in a.networks:
        for key, value in a.networks[net].items():
            assert torch.equal(value, b.networks[net][key]), (net, key)
    assert torch.equal(a.opt_d["state"][0]["square_avg"], b.opt_d["state"][0]["square_avg"])
    logs = [[json.loads(x)["train"] for x in (tmp_path / r / "log.jsonl").read_text().splitlines()]
            for r in ("straight", "resumed")]
    assert logs[0] == logs[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_torchrun_two_cpu_processes(method, synth_root: Path, tmp_path: Path) -> None:
    from avs.checkpoint import load_impl

    run = tmp_path / "run"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "1", "--nproc_per_node", "2",
           "--master_addr", "127.0.0.1", "--master_port", str(_free_port()),
           "-m", "avs.cli", "train", "rdgan", "--data", str(synth_root), "--out", str(run), *TINY, "train.epochs=2"]
    try:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired as exc:  # pragma: no cover - a hang is the failure
        pytest.fail(f"torchrun timed out: {exc.stdout!r} {exc.stderr!r}")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    records = [json.loads(x) for x in (run / "log.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in records] == [1, 2] and [r["step"] for r in records] == [2, 4]
    assert all(np.isfinite(r["train"]["l1"]) and np.isfinite(r["val"]["l1"]) for r in records)
    assert proc.stdout.count("run folder:") == 1  # rank 0 reports alone
    impl = load_impl(method, run / "last.safetensors", [])
    assert impl.audio2landmark.weight.abs().sum() > 0  # the closed-form audio→landmark fit is saved


def _slice(src: Path, out: Path, seconds: float) -> Path:
    import imageio_ffmpeg

    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-i", str(src), "-t", str(seconds),
           "-c:v", "libx264", "-crf", "12", "-c:a", "aac", str(out)]
    subprocess.run(cmd, check=True, capture_output=True)
    return out


@pytest.mark.slow  # face tracking of the slice and of every system's frames: 11 s at a load average of 4
@pytest.mark.skipif(not (SHARED_VIDEO / "hdtf_WDA_BobMenendez_000.mp4").is_file(),
                    reason="the project's sample talking-face videos (../shared/samples/video) are not here")
def test_train_and_evaluate_on_a_real_clip(method, tmp_path: Path) -> None:
    pytest.importorskip("mediapipe", reason="the face extra is not installed")
    from avs.config import build_config
    from avs.face.prepare import prepare_face_data
    from avs_rdgan import data

    clip = _slice(SHARED_VIDEO / "hdtf_WDA_BobMenendez_000.mp4", tmp_path / "bob.mp4", 1.6)
    root = tmp_path / "faces"
    prepare_face_data([clip], root, progress=False)
    _trainer(method, root, tmp_path / "run", 1).fit()
    cfg = build_config(method.config_class, overrides=[*TINY, "eval.max_frames=3"])
    from avs.checkpoint import load_impl

    impl = load_impl(method, tmp_path / "run" / "last.safetensors", ["eval.max_frames=3"])
    test = impl.build_dataset(root, "test")
    assert len(data.load_clips(root, "train", cfg)[0].crops) == 30  # 40 frames: 30 / 5 / 5
    metrics = impl.evaluate(test)
    for system in ("", "_audio", "_photo", "_warp"):
        assert 0 < metrics[f"ssim{system}"] <= 1 and np.isfinite(metrics[f"psnr{system}"]), system
    assert metrics["ssim_photo"] < 1  # the real face moves: the unchanged photo is not a perfect answer
    assert metrics["a2l_l1_px_static"] > 0 and np.isfinite(metrics["a2l_l1_px"])
