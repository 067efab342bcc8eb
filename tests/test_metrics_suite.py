"""Metrics against hand-computed values, including the pitfalls each definition invites."""

from __future__ import annotations

import math

import numpy as np
import pytest

from avs.errors import AvsError
from avs.metrics.beat import audio_beats, bc_beat, beat_align_aist, beat_consistency, motion_beats
from avs.metrics.diversity import l1div, mean_pairwise_distance
from avs.metrics.face import blendshape_vertices, eve, lve, region_error, velocity_error
from avs.metrics.frechet import frechet_distance, frechet_distance_from_stats
from avs.metrics.image import psnr, ssim


def rotation(theta: float) -> np.ndarray:
    c, s = math.cos(theta), math.sin(theta)
    return np.array([[c, -s], [s, c]])


# ---------------------------------------------------------------- Fréchet distance

def test_frechet_diagonal_closed_form():
    mu1, mu2 = np.zeros(3), np.array([1.0, 2.0, 0.0])
    s1, s2 = np.diag([1.0, 4.0, 9.0]), np.diag([4.0, 1.0, 9.0])
    # ‖Δμ‖² + Σ (√a − √b)² = 5 + 1 + 1 + 0
    assert frechet_distance_from_stats(mu1, s1, mu2, s2) == pytest.approx(7.0, abs=1e-9)


def test_frechet_rotated_commuting_covariances():
    r = rotation(0.7)
    s1, s2 = r @ np.diag([4.0, 1.0]) @ r.T, r @ np.diag([1.0, 9.0]) @ r.T
    expected = (2 - 1) ** 2 + (1 - 3) ** 2
    assert frechet_distance_from_stats(np.zeros(2), s1, np.zeros(2), s2) == pytest.approx(expected, abs=1e-9)


def test_frechet_non_commuting_matches_definition():
    # Σ1 = diag(4, 1), Σ2 rotated by 45°: Tr((Σ1Σ2)^½) from the 2×2 identity
    # Tr(√M) = √(tr M + 2√det M) for a matrix with positive eigenvalues
    s1 = np.diag([4.0, 1.0])
    r = rotation(math.pi / 4)
    s2 = r @ np.diag([9.0, 1.0]) @ r.T
    m = s1 @ s2
    tr_sqrt = math.sqrt(np.trace(m) + 2 * math.sqrt(np.linalg.det(m)))
    expected = np.trace(s1) + np.trace(s2) - 2 * tr_sqrt
    assert frechet_distance_from_stats(np.zeros(2), s1, np.zeros(2), s2) == pytest.approx(expected, abs=1e-9)


def test_frechet_rank_deficient():
    # orthogonal rank-1 covariances: (Σ1Σ2)^½ = 0, so FD = tr Σ1 + tr Σ2
    assert frechet_distance_from_stats(np.zeros(2), np.diag([1.0, 0.0]), np.zeros(2), np.diag([0.0, 1.0])) == (
        pytest.approx(2.0, abs=1e-9))


def test_frechet_identical_is_zero_never_negative():
    rng = np.random.default_rng(0)
    for dim, n in [(4, 200), (32, 20), (64, 10)]:  # the last two are rank-deficient
        feats = rng.normal(size=(n, dim)) * rng.uniform(0.1, 100, size=dim)
        value = frechet_distance(feats, feats)
        assert 0.0 <= value < 1e-6 * max(1.0, float(np.var(feats)))


def test_frechet_bad_input():
    with pytest.raises(AvsError, match="equal width"):
        frechet_distance(np.zeros((5, 3)), np.zeros((5, 4)))
    with pytest.raises(AvsError, match="at least 2"):
        frechet_distance(np.zeros((1, 3)), np.zeros((5, 3)))
    with pytest.raises(AvsError, match="NaN"):
        frechet_distance(np.full((5, 3), np.nan), np.zeros((5, 3)))


# ---------------------------------------------------------------- beat consistency

def test_bc_beat_coincident_and_offset():
    audio = np.array([1.0, 2.0, 3.0])
    assert bc_beat(audio, audio) == pytest.approx(1.0)
    assert bc_beat(audio, audio + 0.3, sigma=0.3) == pytest.approx(math.exp(-0.5))
    # nearest motion beat per audio beat: 0.1 s, 0.1 s, 0.9 s away
    motion = np.array([0.9, 2.1])
    expected = np.mean([math.exp(-0.01 / 0.18), math.exp(-0.01 / 0.18), math.exp(-0.81 / 0.18)])
    assert bc_beat(audio, motion, sigma=0.3) == pytest.approx(expected)
    assert bc_beat(audio, np.array([])) == 0.0
    with pytest.raises(AvsError, match="no beats"):
        bc_beat(np.array([]), audio)


def test_beat_align_aist_is_in_frames_and_over_motion_beats():
    audio = np.array([1.0, 2.0, 3.0])
    motion = np.array([1.2])  # 3 frames away at 15 fps from 1.0 s
    assert beat_align_aist(audio, motion, fps=15, sigma_frames=3) == pytest.approx(math.exp(-0.5))
    # direction matters: BEAT's BC averages over the 3 audio beats instead
    assert bc_beat(audio, motion, sigma=0.2) != pytest.approx(beat_align_aist(audio, motion, 15, 3))


def test_motion_beats_find_known_pauses():
    fps, t = 15.0, np.arange(150)
    speed = 1.0 + np.cos(2 * np.pi * (t - 15) / 30)  # minima (pauses) at frames 30, 60, 90, 120
    x = np.cumsum(speed)
    motion = np.stack([x, np.zeros_like(x)], axis=-1)[:, None, :]  # (T, 1, 2)
    beats = motion_beats(motion, fps)
    assert np.allclose(beats * fps, [30, 60, 90, 120], atol=1)


def test_beat_consistency_clicks_against_motion_pauses():
    sr, fps = 16000, 15.0
    click_times = [1.0, 2.0, 3.0, 4.0]
    import librosa

    audio = librosa.clicks(times=click_times, sr=sr, length=int(5.2 * sr)).astype(np.float32)
    onsets = audio_beats(audio, sr)
    clicks = np.array(click_times)
    assert np.abs(onsets[:, None] - clicks[None]).min(axis=0).max() < 0.08  # every click found
    assert np.abs(onsets[:, None] - clicks[None]).min(axis=1).max() < 0.08  # no onset elsewhere
    t = np.arange(int(5.2 * fps))
    speed = 1.0 + np.cos(2 * np.pi * (t - 7.5) / 15)  # pauses every second at 1, 2, 3, 4 s
    motion = np.cumsum(speed)[:, None, None].repeat(2, axis=2)
    aligned = beat_consistency(motion, fps, audio, sr)
    assert aligned["bc_beat_sigma0.3s"] > 0.95
    shifted = beat_consistency(np.roll(motion, 7, axis=0), fps, audio, sr)  # pauses half a second late
    assert shifted["bc_beat_sigma0.3s"] < 0.4 < aligned["bc_beat_sigma0.3s"]
    assert set(aligned) == {"bc_beat_sigma0.3s", "beat_align_aist_sigma3f"}


# ---------------------------------------------------------------- diversity

def test_l1div_and_pairwise_distance():
    assert l1div(np.array([[0.0], [2.0]])) == pytest.approx(1.0)
    assert l1div(np.array([[0.0, 0.0], [2.0, 4.0]])) == pytest.approx(3.0)
    assert l1div(np.ones((10, 3))) == 0.0
    assert mean_pairwise_distance(np.array([[0.0], [1.0], [3.0]])) == pytest.approx(2.0)
    with pytest.raises(AvsError):
        mean_pairwise_distance(np.zeros((1, 3)))


# ---------------------------------------------------------------- face

def test_region_and_velocity_error():
    gt = np.zeros((3, 4))
    pred = np.zeros((3, 4))
    pred[:, 1] = 0.3
    pred[2, 2] = 0.9
    assert region_error(pred, gt, [1]) == pytest.approx(0.3)
    assert region_error(pred, gt, [0, 2]) == pytest.approx(0.9 / 6)
    # differences of channel 2: [0, 0.9] vs 0 → mean over 2×4 entries
    assert velocity_error(pred, gt) == pytest.approx(0.9 / 8)
    with pytest.raises(AvsError, match="channels"):
        region_error(pred, gt, [7])


def test_lve_eve_on_a_tiny_mesh():
    neutral = np.array([[0.0, 0, 0], [1, 0, 0], [0, 1, 0]])
    deltas = np.zeros((2, 3, 3))
    deltas[0, 0] = [0, 0, 1]  # shape 0 moves vertex 0 up
    deltas[1, 2] = [1, 0, 0]  # shape 1 moves vertex 2 right
    gt = blendshape_vertices(np.array([[0.0, 0.0], [1.0, 0.0]]), neutral, deltas)
    pred = blendshape_vertices(np.array([[0.5, 0.0], [1.0, 1.0]]), neutral, deltas)
    assert gt.shape == (2, 3, 3)
    # lips = vertices {0, 1}: frame 0 max sq error 0.25 (vertex 0), frame 1: 0 → mean 0.125
    assert lve(pred, gt, [0, 1]) == pytest.approx(0.125)
    # eyes = vertex {2}: frame 0: 0, frame 1: 1 → 0.5
    assert eve(pred, gt, [2]) == pytest.approx(0.5)
    with pytest.raises(AvsError, match="rig shapes"):
        blendshape_vertices(np.zeros((2, 3)), neutral, deltas)


# ---------------------------------------------------------------- images

def test_psnr_ssim():
    rng = np.random.default_rng(1)
    img = rng.integers(0, 256, size=(64, 64, 3), dtype=np.uint8)
    assert psnr(img, img) == math.inf
    assert ssim(img, img) == pytest.approx(1.0)
    noisy = np.clip(img.astype(int) + 10, 0, 255).astype(np.uint8)
    mse = np.mean((noisy / 255.0 - img / 255.0) ** 2)
    assert psnr(noisy, img) == pytest.approx(10 * math.log10(1 / mse), rel=1e-6)
    assert ssim(rng.integers(0, 256, size=(64, 64), dtype=np.uint8), img[..., 0]) < 0.2


@pytest.mark.parametrize("fn", [region_error, velocity_error, psnr])
def test_bad_pairs_are_one_line_errors(fn):
    args = {region_error: ([0],), velocity_error: (), psnr: ()}[fn]
    with pytest.raises(AvsError, match="differ in shape"):
        fn(np.zeros((4, 5)), np.zeros((4, 6)), *args)
    with pytest.raises(AvsError, match="NaN"):
        fn(np.full((4, 5), np.nan), np.zeros((4, 5)), *args)
    with pytest.raises(AvsError, match="empty"):
        fn(np.zeros((0, 5)), np.zeros((0, 5)), *args)


# ---------------------------------------------------------------- keypoint extras

def test_l2_px_and_lip_sync_error():
    from avs.metrics import l2_px, lip_sync_error

    gt = np.zeros((1, 2, 3, 2))
    pred = gt.copy()
    pred[0, :, 2] = [3.0, 4.0]  # one of 3 keypoints 5 px off in both frames
    assert l2_px(pred, gt) == pytest.approx(5 / 3)
    # lips = keypoints 0 (upper) and 1 (lower); gt opening 0 → 10 px, prediction 5 → 5 px
    gt[0, 1, 1, 1], pred[0, 0, 1, 1], pred[0, 1, 1, 1] = 10.0, 5.0, 5.0
    expected = np.mean([abs(5 - 0), abs(5 - 10)]) / (10 + 1e-4)
    assert lip_sync_error(pred, gt, 0, 1) == pytest.approx(expected)
    closed = np.zeros((1, 4, 3, 2))
    assert lip_sync_error(closed, closed, 0, 1) == 0.0  # a mouth that never opens is no error
    with pytest.raises(AvsError, match="invalid"):
        lip_sync_error(pred, gt, 0, 0)


def test_negative_lr_milestones_count_from_the_end_and_never_fire_before_the_start():
    from avs.train import learning_rate_factor

    # SDT: 100 epochs, ×0.1 after epochs 90 and 98
    assert learning_rate_factor([-10, -2], 0.1, 100, 90) == 1.0
    assert learning_rate_factor([-10, -2], 0.1, 100, 91) == pytest.approx(0.1)
    assert learning_rate_factor([-10, -2], 0.1, 100, 99) == pytest.approx(0.01)
    # a 2-epoch run: both milestones fall before the start and never fire
    assert learning_rate_factor([-10, -2], 0.1, 2, 1) == 1.0
    assert learning_rate_factor([-10, -2], 0.1, 2, 2) == 1.0
