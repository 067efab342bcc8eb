"""Keypoint metrics against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest

from avs.errors import AvsError
from avs.metrics import l1, pck


def _box_frame(k: int = 48) -> np.ndarray:
    """k keypoints spread over a 100 x 50 px box: max(w, h) = 100."""
    rng = np.random.default_rng(0)
    pts = np.stack([rng.uniform(0, 100, k), rng.uniform(0, 50, k)], axis=1)
    pts[0] = (0.0, 0.0)
    pts[1] = (100.0, 50.0)
    return pts


def test_l1_known_value() -> None:
    assert l1(np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.0, 1.0])) == pytest.approx(1.0)


def test_l1_identical_is_zero() -> None:
    x = np.random.default_rng(1).normal(size=(4, 64, 96))
    assert l1(x, x) == 0.0


def test_pck_identical_is_one() -> None:
    gt = _box_frame()[None]
    assert pck(gt, gt, 0.1) == 1.0


@pytest.mark.parametrize("k", [0, 1, 17, 48])
def test_pck_exactly_k_of_48_inside(k: int) -> None:
    gt = _box_frame()[None]  # radius at alpha 0.1: 0.1 * 100 = 10 px
    pred = gt.copy()
    pred[0, :, 0] += 15.0  # every keypoint 15 px off: outside
    pred[0, :k, 0] = gt[0, :k, 0] + 9.9  # k of them 9.9 px off: inside
    assert pck(pred, gt, 0.1) == pytest.approx(k / 48)
    assert pck(pred, gt, 0.2) == 1.0  # radius 20 px


def test_pck_radius_is_inclusive_and_uses_larger_side() -> None:
    gt = np.array([[[0.0, 0.0], [40.0, 200.0]]])  # w 40, h 200 → radius at 0.1 = 20
    pred = gt + np.array([[[12.0, 16.0], [0.0, 20.5]]])  # distances 20 (inside) and 20.5 (outside)
    assert pck(pred, gt, 0.1) == pytest.approx(0.5)


def test_pck_averages_per_frame() -> None:
    gt = np.repeat(_box_frame(4)[None], 2, axis=0)
    pred = gt.copy()
    pred[0] += 1000.0  # frame 0: 0 of 4 correct
    pred[1, :3] += 1000.0  # frame 1: 1 of 4 correct
    assert pck(pred, gt, 0.2) == pytest.approx((0.0 + 0.25) / 2)


def test_pck_leading_dimensions_flatten() -> None:
    gt = np.stack([_box_frame()] * 6).reshape(2, 3, 48, 2)
    assert pck(gt + 1000.0, gt, 0.1) == 0.0


@pytest.mark.parametrize(
    ("pred", "gt", "match"),
    [
        (np.zeros((2, 48, 2)), np.zeros((2, 49, 2)), "differs"),
        (np.zeros((2, 48, 3)), np.zeros((2, 48, 3)), r"\(N, K, 2\)"),
        (np.full((1, 48, 2), np.nan), np.zeros((1, 48, 2)), "NaN"),
        (np.zeros((0, 48, 2)), np.zeros((0, 48, 2)), "empty"),
    ],
)
def test_pck_bad_input(pred: np.ndarray, gt: np.ndarray, match: str) -> None:
    with pytest.raises(AvsError, match=match):
        pck(pred, gt, 0.1)


def test_l1_bad_input() -> None:
    with pytest.raises(AvsError, match="differs"):
        l1(np.zeros(3), np.zeros(4))
    with pytest.raises(AvsError, match="NaN"):
        l1(np.array([np.inf]), np.zeros(1))
