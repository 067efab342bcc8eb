"""Prediction: frame counts, controls and their errors, post-processing, windowing, evaluation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from avs.audio import write_wav
from avs.errors import AvsError
from avs.motion import Motion
from avs_emotalk.arkit import EYE_BLINK
from avs_emotalk.data import EmoTalkDataset
from avs_emotalk.inference import (
    BLINK_PROFILES,
    baseline_metrics,
    evaluate,
    postprocess,
    predict,
    predict_raw,
    reference_postprocess,
    scripted_blinks,
    smooth,
)


def test_predict_real_speech(small_G, small_cfg, speech) -> None:
    audio = speech[: 3 * 16000 + 100]
    motion = predict(small_G, audio, small_cfg, {})
    assert isinstance(motion, Motion) and motion.kind == "blendshapes" and motion.fps == 30
    assert motion.data.shape == (math.ceil(audio.size / 16000 * 30), 52) == (91, 52)
    assert motion.data.dtype == np.float32 and 0 <= motion.data.min() and motion.data.max() <= 1
    probs = motion.extras["emotion_probs"]
    assert probs.shape == (91, 8) and np.allclose(probs.sum(1), 1, atol=1e-5)
    assert small_G.training  # mode restored


@pytest.mark.parametrize(("override", "message"), [
    ({"emotion": "bored"}, "unknown emotion 'bored'"),
    ({"person": 24}, "person must be 0-23"),
    ({"person": -1}, "person must be 0-23"),
    ({"level": 2}, "level must be 0"),
])
def test_bad_controls_are_user_errors(small_G, small_cfg, override, message) -> None:
    for key, value in override.items():
        setattr(small_cfg, key, value)
    with pytest.raises(AvsError, match=message):
        predict(small_G, np.zeros(16000, np.float32), small_cfg, {})


def test_named_emotion_needs_learned_features(small_G, small_cfg) -> None:
    small_cfg.emotion = "Happy"
    with pytest.raises(AvsError, match="no learned emotion features for 'happy'"):
        predict(small_G, np.zeros(16000, np.float32), small_cfg, {})
    small_G.emotion_prototype_count[2] = 5
    small_G.emotion_prototypes[2] = torch.randn(small_G.emotion_prototypes.shape[1])
    small_cfg.infer.blinks = False
    happy = predict(small_G, np.random.default_rng(0).normal(0, 0.1, 16000).astype(np.float32), small_cfg, {}).data
    small_cfg.emotion = "auto"
    auto = predict(small_G, np.random.default_rng(0).normal(0, 0.1, 16000).astype(np.float32), small_cfg, {}).data
    assert not np.allclose(happy, auto)


def test_emotion_from_another_clip(tmp_path, small_G, small_cfg, speech) -> None:
    ref = tmp_path / "ref.wav"
    write_wav(ref, speech[5 * 16000: 7 * 16000], 16000)
    small_cfg.infer.blinks = False
    own = predict(small_G, speech[:16000], small_cfg, {}).data
    small_cfg.infer.emotion_audio = str(ref)
    other = predict(small_G, speech[:16000], small_cfg, {}).data
    assert own.shape == other.shape and not np.allclose(own, other)
    small_cfg.infer.emotion_audio = str(tmp_path / "missing.wav")
    with pytest.raises(AvsError, match="not found"):
        predict(small_G, speech[:16000], small_cfg, {})


def test_savgol_smoothing() -> None:
    t = np.linspace(0, 1, 40)[:, None]
    quadratic = np.repeat(0.5 * t**2 + 0.1, 52, axis=1)
    np.testing.assert_allclose(smooth(quadratic), quadratic, atol=1e-6)  # order 2 keeps a parabola
    spiky = np.zeros((40, 52), np.float32)
    spiky[20] = 1.0
    assert smooth(spiky)[20].max() < 0.6  # a one-frame spike is spread out
    assert smooth(spiky[:4]).shape == (4, 52)  # shorter than the window: unchanged


def test_scripted_blinks() -> None:
    w = np.full((600, 52), 0.3, np.float32)
    out = scripted_blinks(w, seed=3)
    left, right = EYE_BLINK
    np.testing.assert_array_equal(out[:, left], out[:, right])
    others = [i for i in range(52) if i not in EYE_BLINK]
    np.testing.assert_array_equal(out[:, others], w[:, others])
    starts = [i for i in range(600 - 6) if out[i, left] > 0 and (i == 0 or out[i - 1, left] == 0)]
    assert starts[0] <= 60 and len(starts) >= 3
    assert all(60 <= b - a <= 180 for a, b in zip(starts, starts[1:], strict=False))
    for s in starts:
        assert any(np.allclose(out[s:s + 7, left], p) for p in BLINK_PROFILES)
    assert np.count_nonzero(out[:, left]) == 7 * len(starts)
    np.testing.assert_array_equal(scripted_blinks(w, seed=3), out)  # reproducible


def test_postprocess_switches(small_cfg) -> None:
    raw = np.random.default_rng(0).uniform(-0.2, 1.2, (100, 52)).astype(np.float32)
    small_cfg.infer.smooth = small_cfg.infer.blinks = small_cfg.infer.clip = False
    np.testing.assert_array_equal(postprocess(raw, small_cfg), raw)
    small_cfg.infer.clip = True
    assert postprocess(raw, small_cfg).min() == 0.0 and postprocess(raw, small_cfg).max() == 1.0
    small_cfg.infer.smooth = True
    np.testing.assert_allclose(postprocess(raw, small_cfg), np.clip(smooth(raw), 0, 1))
    small_cfg.infer.blinks = True
    assert not np.allclose(postprocess(raw, small_cfg)[:, EYE_BLINK[0]], np.clip(smooth(raw), 0, 1)[:, EYE_BLINK[0]])


def _demo_postprocess(prediction: np.ndarray, seed: int) -> np.ndarray:
    """The reference demo's post-processing (EmoTalk_release demo.py), re-stated with its literal steps."""
    import random

    from scipy.signal import savgol_filter

    eyes = [np.array([0.36537236, 0.950235724, 0.95593375, 0.916715622, 0.367256105, 0.119113259, 0.025357503]),
            np.array([0.234776169, 0.909951985, 0.944758058, 0.777862132, 0.191071674, 0.235437036, 0.089163929]),
            np.array([0.870040774, 0.949833691, 0.949418545, 0.695911646, 0.191071674, 0.072576277, 0.007108896]),
            np.array([0.000307991, 0.556701422, 0.952656746, 0.942345619, 0.425857186, 0.148335218, 0.017659493])]
    output = np.zeros((prediction.shape[0], prediction.shape[1]))
    for i in range(prediction.shape[1]):
        output[:, i] = savgol_filter(prediction[:, i], 5, 2)
    output[:, 8] = 0
    output[:, 9] = 0
    random.seed(seed)
    i = random.randint(0, 60)
    while i < output.shape[0] - 7:
        eye = eyes[random.randint(1, 4) - 1]
        output[i:i + 7, 8] = eye
        output[i:i + 7, 9] = eye
        i = i + random.randint(60, 180)
    return output


@pytest.mark.parametrize("seed", [0, 7])
def test_reference_postprocess_is_the_demo(small_cfg, seed) -> None:
    raw = np.random.default_rng(seed).normal(0.3, 0.6, (700, 52)).astype(np.float32)
    expected = _demo_postprocess(raw, seed)
    np.testing.assert_array_equal(reference_postprocess(raw, seed), expected.astype(np.float32))
    small_cfg.postprocess = "reference"
    small_cfg.infer.blink_seed = seed
    out = postprocess(raw, small_cfg)
    np.testing.assert_array_equal(out, expected.astype(np.float32))
    assert out.min() < 0 and out.max() > 1  # not clipped, as in the demo
    assert np.count_nonzero(out[:, 8]) >= 7 * 3  # blinks every 60-180 frames over 700 frames
    small_cfg.postprocess = "default"
    assert postprocess(raw, small_cfg).min() >= 0  # our default clips


def test_bad_postprocess_is_a_user_error(small_G, small_cfg) -> None:
    small_cfg.postprocess = "demo"
    with pytest.raises(AvsError, match="postprocess must be one of default, reference"):
        predict(small_G, np.zeros(16000, np.float32), small_cfg, {})


class _EnergyStub(torch.nn.Module):
    """A 'generator' whose frame t is the RMS of its audio around t's time: exposes window alignment."""

    def __init__(self) -> None:
        super().__init__()
        self.dummy = torch.nn.Parameter(torch.zeros(()))
        self.register_buffer("emotion_prototype_count", torch.zeros(8))

    def forward(self, audio, lengths, ci, ei, num_frames, level, person, emotion_class=None):
        t = int(num_frames[0])
        x = audio[0, : int(lengths[0])]
        edges = torch.linspace(0, x.numel(), t + 1).round().long()
        rms = torch.stack([x[a:max(b, a + 1)].pow(2).mean().sqrt() for a, b in zip(edges[:-1], edges[1:], strict=True)])
        return {"blendshapes": rms.view(1, t, 1).expand(1, t, 52) + self.dummy, "mask": torch.ones(1, t, dtype=bool),
                "logits": torch.zeros(1, 8), "emotion_pooled": torch.zeros(1, 4)}


def test_windows_line_up_with_a_single_pass(small_cfg, speech) -> None:
    """Overlapping windows map their audio onto their frames as one pass does (no drift, no offset)."""
    audio = np.resize(speech, 20 * 16000)
    small_cfg.infer.window_frames, small_cfg.infer.overlap_frames = 100, 20
    windowed, _ = predict_raw(_EnergyStub(), audio, small_cfg)
    small_cfg.infer.window_frames = 1000
    single, _ = predict_raw(_EnergyStub(), audio, small_cfg)
    assert windowed.shape == single.shape == (600, 52)
    scale = np.abs(single[:, 0]).mean()
    err = np.abs(windowed[:, 0] - single[:, 0]).mean() / scale
    off_by_one = np.abs(windowed[1:, 0] - single[:-1, 0]).mean() / scale
    assert err < 0.02 and off_by_one > 10 * err


def test_windowed_real_generator_agrees(small_G, small_cfg, speech) -> None:
    """The real network sees less context in a window (its encoders are bidirectional) but tracks one pass."""
    audio = np.resize(speech, 20 * 16000)
    small_cfg.infer.window_frames, small_cfg.infer.overlap_frames = 300, 30
    windowed, _ = predict_raw(small_G, audio, small_cfg)
    small_cfg.infer.window_frames = 1000
    single, _ = predict_raw(small_G, audio, small_cfg)
    assert np.corrcoef(windowed.ravel(), single.ravel())[0, 1] > 0.8
    small_cfg.infer.overlap_frames = 1000
    with pytest.raises(AvsError, match="overlap_frames"):
        predict_raw(small_G, audio, small_cfg)


def test_evaluate_and_baselines(small_G, small_cfg, synth_root, synth_stats) -> None:
    dev = EmoTalkDataset(synth_root, "dev", small_cfg, synth_stats)
    small_cfg.eval.max_pairs = 4
    out = evaluate(small_G, dev, small_cfg, synth_stats)
    assert set(out) == {"coef_mae_mouth_jaw", "coef_mae_eyes_brows", "coef_mae_all", "coef_velocity_mae",
                        "emotion_accuracy", "cross_coef_mae_all"}
    assert 0 <= out["emotion_accuracy"] <= 1 and all(v >= 0 for v in out.values())
    mean, neutral = baseline_metrics(dev, synth_stats, "mean"), baseline_metrics(dev, synth_stats, "neutral")
    gt = np.concatenate([dev.blendshapes(k) for k in range(len(dev.clips))])
    assert neutral["coef_mae_all"] == pytest.approx(np.abs(gt).mean(), rel=1e-6)
    assert mean["coef_mae_all"] == pytest.approx(np.abs(gt - synth_stats["mean"]).mean(), rel=1e-6)
    with pytest.raises(AvsError, match="unknown baseline"):
        baseline_metrics(dev, synth_stats, "median")


def test_evaluate_with_a_rig(tmp_path, small_G, small_cfg, synth_root, synth_stats) -> None:
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "rig.npz", neutral=rng.normal(size=(30, 3)), deltas=rng.normal(size=(52, 30, 3)) * 0.01,
             lip_indices=np.arange(0, 10), eye_indices=np.arange(20, 30))
    small_cfg.eval.rig = str(tmp_path / "rig.npz")
    small_cfg.eval.max_pairs = 1
    dev = EmoTalkDataset(synth_root, "dev", small_cfg, synth_stats)
    out = evaluate(small_G, dev, small_cfg, synth_stats)
    assert out["lve"] > 0 and out["eve"] > 0
    base = baseline_metrics(dev, synth_stats, "neutral", small_cfg)
    assert base["lve"] > 0
    np.savez(tmp_path / "bad.npz", neutral=np.zeros((30, 3)), deltas=np.zeros((51, 30, 3)),
             lip_indices=np.arange(3), eye_indices=np.arange(3))
    small_cfg.eval.rig = str(tmp_path / "bad.npz")
    with pytest.raises(AvsError, match="deltas has shape"):
        evaluate(small_G, dev, small_cfg, synth_stats)
