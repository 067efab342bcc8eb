"""Background matching on synthetic yaw curves (reference choose_bg_gexinghua2_reassign2)."""

from __future__ import annotations

import numpy as np

from avs_phadtf.background import hanning_smooth, keyframes, match_background
from avs_phadtf.config import BackgroundConfig


def _poses(yaw: np.ndarray) -> np.ndarray:
    return np.stack([np.zeros_like(yaw), yaw, np.zeros_like(yaw)], axis=1)


def test_smooth_keeps_length_and_constant() -> None:
    x = np.full(30, 0.3)
    np.testing.assert_allclose(hanning_smooth(x, 7), x)
    assert hanning_smooth(np.arange(20.0), 7).shape == (20,)


def test_keyframes_at_yaw_extrema() -> None:
    n = 192
    t = np.arange(n)
    yaw = 0.3 * np.sin(2 * np.pi * t / 48) + 0.01 * np.cos(2 * np.pi * t / 7)  # extrema near 12 + 24 k
    kf = keyframes(_poses(yaw), BackgroundConfig())
    assert kf[0] == 0 and kf[-1] == n - 1
    inner = kf[1:-1]
    assert len(inner) == 8  # the 7-frame Hanning smoothing removes the small fast wobble
    np.testing.assert_array_less(np.abs(inner - (12 + 24 * np.arange(8))), 2)


def test_keyframes_thinned_when_too_many() -> None:
    n = 200
    yaw = 0.3 * np.sin(2 * np.pi * np.arange(n) / 12)  # 33 extrema > n / 10
    kf = keyframes(_poses(yaw), BackgroundConfig())
    assert len(kf) - 2 <= n * 0.1


def test_matching_picks_the_frames_with_that_pose() -> None:
    # training frames: a slow yaw ramp from -0.4 to 0.4 rad; each frame's yaw is unique
    train = _poses(np.linspace(-0.4, 0.4, 300))
    n = 120
    yaw = 0.3 * np.sin(2 * np.pi * np.arange(n) / 40)
    cfg = BackgroundConfig(speed=100.0)  # wide search: the nearest pose anywhere
    assign = match_background(_poses(yaw), train, cfg)
    assert assign.shape == (n,) and assign.min() >= 0 and assign.max() < 300
    kf = keyframes(_poses(yaw), cfg)
    expected = np.abs(train[:, 1][None] - yaw[kf][:, None]).argmin(axis=1)
    np.testing.assert_array_equal(assign[kf], expected)
    # between keyframes the indices are interpolated (monotone between neighbours)
    a, b = kf[1], kf[2]
    seg = assign[a:b + 1]
    assert np.all(np.diff(seg) <= 0) or np.all(np.diff(seg) >= 0)
    # the realised yaw follows the predicted one
    assert np.corrcoef(train[assign, 1], yaw)[0, 1] > 0.9


def test_search_window_limits_jumps() -> None:
    train = _poses(np.concatenate([np.linspace(-0.4, 0.4, 150), np.linspace(0.4, -0.4, 150)]))
    yaw = 0.3 * np.sin(2 * np.pi * np.arange(60) / 30)
    assign = match_background(_poses(yaw), train, BackgroundConfig(speed=1.0))
    kf = keyframes(_poses(yaw), BackgroundConfig(speed=1.0))
    for i in range(1, len(kf)):
        assert abs(assign[kf[i]] - assign[kf[i - 1]]) <= kf[i] - kf[i - 1]
