"""Inference on real speech of any length: shapes, silence, errors, windowing, evaluation."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from avs.errors import AvsError
from avs.motion import Motion
from avs_s2g.data import S2GDataset
from avs_s2g.inference import evaluate, num_pose_frames, predict, predict_normalised
from avs_s2g.model import build_generator


@pytest.fixture()
def G(small_cfg):
    torch.manual_seed(0)
    return build_generator(small_cfg)


@pytest.mark.parametrize("seconds", [3.3, 20.0])
def test_predict_real_speech(G, small_cfg, synth_stats, speech: np.ndarray, seconds: float) -> None:
    audio = np.resize(speech, int(seconds * 16000))  # 20 s: the 12.4 s of speech repeated
    motion = predict(G, audio, small_cfg, synth_stats)
    assert isinstance(motion, Motion) and motion.kind == "keypoints-2d" and motion.fps == 15
    assert motion.data.shape == (int(15 * audio.size / 16000), 49, 2) == (num_pose_frames(audio.size), 49, 2)
    assert motion.data.dtype == np.float32 and np.isfinite(motion.data).all()
    # the neck sits where the training data put it
    neck = np.broadcast_to(synth_stats["neck"], (motion.num_frames, 2))
    np.testing.assert_allclose(motion.data[:, 0], neck)
    assert G.training  # mode restored


def test_frame_count_rounds_down(G, small_cfg, synth_stats) -> None:
    """T = floor(15 · samples / 16000): 2134 samples make 2 frames (2133.3 needed), 2133 make 1."""
    assert predict(G, np.zeros(2134, np.float32), small_cfg, synth_stats).num_frames == 2
    assert predict(G, np.zeros(2133, np.float32), small_cfg, synth_stats).num_frames == 1


def test_silence_gives_a_valid_figure(G, small_cfg, synth_stats) -> None:
    motion = predict(G, np.zeros(16000 * 3, np.float32), small_cfg, synth_stats)
    assert motion.data.shape == (45, 49, 2) and np.isfinite(motion.data).all()


def test_too_short_is_a_user_error(G, small_cfg, synth_stats) -> None:
    with pytest.raises(AvsError, match="shorter than one frame"):
        predict(G, np.zeros(1000, np.float32), small_cfg, synth_stats)
    with pytest.raises(AvsError, match="mono"):
        predict(G, np.zeros((2, 16000), np.float32), small_cfg, synth_stats)


@pytest.mark.parametrize(("window", "overlap"), [(0, 0), (64, 64), (64, -1)])
def test_bad_window_is_a_user_error(G, small_cfg, synth_stats, window, overlap) -> None:
    small_cfg.infer.window_frames, small_cfg.infer.overlap_frames = window, overlap
    with pytest.raises(AvsError, match="window_frames"):
        predict(G, np.zeros(16000, np.float32), small_cfg, synth_stats)


@pytest.mark.parametrize("frames", [44, 64, 150])
def test_a_short_clip_is_one_pass_over_the_exact_clip(G, small_cfg, speech: np.ndarray, frames: int) -> None:
    """As speech2gesture's predict_audio.py: the whole clip, padded by reflection to the next multiple of 32
    strictly above T (64 frames run as 96), through the generator once, cropped to T."""
    from avs.audio import log_mel

    audio = speech[: int(frames * 16000 / 15) + 7]
    assert num_pose_frames(audio.size) == frames
    ours = predict_normalised(G, audio, small_cfg)
    padded = frames + 32 - frames % 32
    wanted = round(padded * 16000 / 15) + 240  # the last pose frame's STFT window reaches 240 samples further
    clip = np.pad(audio, (0, wanted - audio.size), mode="reflect")
    G.eval()
    with torch.no_grad():
        direct = G(torch.from_numpy(log_mel(clip, 16000))[None], padded)[0, :frames].numpy()
    np.testing.assert_allclose(ours, direct, rtol=0, atol=1e-5)
    assert small_cfg.infer.window_frames == 360  # the default covers 24 s in one pass


class _LocalStub(torch.nn.Module):
    """A 'generator' whose frame i is the mel energy around frame i's time: exposes window alignment."""

    def __init__(self) -> None:
        super().__init__()
        self.dummy = torch.nn.Parameter(torch.zeros(()))

    def forward(self, mel: torch.Tensor, num_frames: int) -> torch.Tensor:
        energy = mel.exp().mean(-1, keepdim=True).transpose(1, 2)  # (B, 1, T_mel)
        per_frame = F.interpolate(energy, size=num_frames, mode="linear", align_corners=False)
        return per_frame.transpose(1, 2).expand(-1, -1, 98) + self.dummy


def test_windows_line_up_with_a_single_pass(small_cfg, speech: np.ndarray) -> None:
    """Overlapping windows give what one pass over the whole input gives (a time-local model)."""
    stub = _LocalStub()
    audio = np.resize(speech, 20 * 16000)
    small_cfg.infer.window_frames, small_cfg.infer.overlap_frames = 64, 16
    windowed = predict_normalised(stub, audio, small_cfg)[:, 1]
    small_cfg.infer.window_frames = 320
    single = predict_normalised(stub, audio, small_cfg)[:, 1]
    assert windowed.shape == single.shape == (300,)
    scale = np.abs(single).mean()
    err = np.abs(windowed - single).mean() / scale
    off_by_one = np.abs(windowed[1:] - single[:-1]).mean() / scale
    # windows map their mel frames onto their pose frames with < 1 mel frame (10 ms) of drift;
    # a misalignment by one pose frame would cost an order of magnitude more
    assert err < 0.06 and off_by_one > 10 * err


def test_windowed_real_generator_agrees(small_cfg, synth_stats, speech: np.ndarray) -> None:
    """The real network differs near window edges (zero padding), but tracks the one-pass result."""
    torch.manual_seed(0)
    G = build_generator(small_cfg)
    audio = np.resize(speech, 20 * 16000)
    small_cfg.infer.window_frames, small_cfg.infer.overlap_frames = 128, 32
    windowed = predict_normalised(G, audio, small_cfg)
    small_cfg.infer.window_frames = 320
    single = predict_normalised(G, audio, small_cfg)
    corr = np.corrcoef(windowed[:, 1:49].ravel(), single[:, 1:49].ravel())[0, 1]
    assert corr > 0.9


def test_evaluate_keys(G, small_cfg, synth_root, synth_stats) -> None:
    dev = S2GDataset(synth_root, "dev", synth_stats, small_cfg)
    out = evaluate(G, dev, small_cfg, synth_stats)
    assert set(out) == {"l1", "l1_px", "pck@0.1", "pck@0.2", "bc_beat_sigma0.3s", "beat_align_aist_sigma3f",
                        "l1div_px"}
    assert 0.0 <= out["bc_beat_sigma0.3s"] <= 1.0 and out["l1div_px"] >= 0
    assert 0.0 <= out["pck@0.1"] <= out["pck@0.2"] <= 1.0 and out["l1"] > 0 and out["l1_px"] > 0


def test_silence_gate_levels() -> None:
    from avs_s2g.inference import silence_gate

    sr, hop = 16000, 16000 // 15
    audio = np.zeros(sr * 3, np.float32)
    audio[sr : 2 * sr] = 0.1 * np.sin(np.arange(sr) * 0.3)  # -23 dBFS tone in the middle second
    gate = silence_gate(audio, 45, -60.0)
    assert gate.shape == (45,)
    assert gate[:10].max() == 0.0 and gate[-10:].max() == 0.0  # silence → rest pose
    assert gate[18:27].min() == 1.0  # sound → the network's motion, untouched
    assert np.all(silence_gate(audio, 45, -np.inf) == 1.0)
    quiet = np.full(hop * 10, 10 ** (-65 / 20) * np.sqrt(2), np.float32)  # -62 dBFS: on the -70…-60 ramp
    assert 0.0 < silence_gate(quiet, 10, -60.0)[5] < 1.0


def test_silence_gate_in_chunks_equals_one_go(speech: np.ndarray) -> None:
    from avs_s2g.inference import GATE_CHUNK_FRAMES, silence_gate

    audio = np.resize(speech, 16000 * 200) * np.linspace(0, 1, 16000 * 200, dtype=np.float32) ** 4
    frames = num_pose_frames(audio.size)
    assert frames > 2 * GATE_CHUNK_FRAMES
    edges = (np.arange(frames + 1) * 16000 / 15).astype(int)
    power = np.add.reduceat(audio[: edges[-1]].astype(np.float64) ** 2, edges[:-1]) / np.diff(edges)
    from scipy.ndimage import uniform_filter1d

    level = 10 * np.log10(power + 1e-20)
    expected = uniform_filter1d(np.clip((level + 70.0) / 10.0, 0, 1), size=5, mode="nearest")
    np.testing.assert_allclose(silence_gate(audio, frames, -60.0), expected, rtol=0, atol=1e-6)
