"""The edge map against hand-made expectations (which polylines, closed or open, no jaw, thickness)."""

from __future__ import annotations

import numpy as np
import pytest

from avs.errors import AvsError
from avs_rdgan.edges import edge_map


def _layout() -> np.ndarray:
    """68 landmarks placed so that every candidate segment has its own midpoint."""
    lm = np.zeros((68, 2), np.float64)
    lm[0:17] = np.stack([np.linspace(4, 124, 17), np.full(17, 120)], 1)  # jaw along the bottom
    lm[17:22] = [(10, 14), (20, 10), (30, 8), (40, 10), (50, 14)]  # right brow (an arc)
    lm[22:27] = [(78, 14), (88, 10), (98, 8), (108, 10), (118, 14)]  # left brow
    lm[27:31] = [(64, 20), (64, 26), (64, 32), (64, 38)]  # nose bridge
    lm[31:36] = [(52, 46), (58, 46), (64, 46), (70, 46), (76, 46)]  # nose base
    ang = np.deg2rad([180, 120, 60, 0, -60, -120])
    for start, cx in ((36, 30), (42, 98)):
        lm[start:start + 6] = np.stack([cx + 8 * np.cos(ang), 30 - 8 * np.sin(ang)], 1)
    outer = np.deg2rad(np.concatenate([[180], 180 - 30 * np.arange(1, 6), [0], -30 * np.arange(1, 6)]))
    lm[48:60] = np.stack([64 + 30 * np.cos(outer), 85 - 15 * np.sin(outer)], 1)
    inner = np.deg2rad([180, 135, 90, 45, 0, -45, -90, -135])
    lm[60:68] = np.stack([64 + 18 * np.cos(inner), 85 - 6 * np.sin(inner)], 1)
    return lm


def _mid(lm: np.ndarray, i: int, j: int, at: float = 0.5) -> tuple[int, int]:
    x, y = np.rint(lm[i] + at * (lm[j] - lm[i])).astype(int)
    return int(y), int(x)


def test_edge_map_draws_exactly_the_reference_polylines() -> None:
    lm = _layout()
    img = edge_map(lm)
    assert img.shape == (128, 128, 3) and img.dtype == np.uint8
    assert set(np.unique(img)) <= {0, 255}
    assert (img[..., 0] == img[..., 1]).all() and (img[..., 1] == img[..., 2]).all()
    white = {
        "brow 17-18": (17, 18), "brow 25-26": (25, 26), "nose bridge 28-29": (28, 29), "nose 30-31": (30, 31),
        "nose base 33-34": (33, 34), "nose 35-30": (35, 30), "eye closed 41-36": (41, 36),
        "eye closed 47-42": (47, 42), "outer lips closed 59-48": (59, 48), "inner lips closed 67-60": (67, 60),
        "corner 48-60": (48, 60), "corner 54-64": (54, 64), "outer lips 51-52": (51, 52),
    }
    for name, (i, j) in white.items():
        assert img[_mid(lm, i, j)][0] == 255, name
    black = {
        "brows open 21-17": (21, 17), "brows apart 21-22": (21, 22), "brow-nose 26-27": (26, 27),
        "nose-eye 35-36": (35, 36), "eyes apart 39-42": (39, 42), "eye-mouth 47-48": (47, 48),
        "no jaw 3-4": (3, 4), "no jaw 8-9": (8, 9), "jaw-brow 16-17": (16, 17),
    }
    for name, (i, j) in black.items():
        assert img[_mid(lm, i, j, 0.25)][0] == 0, name
    assert img[112:128].max() == 0, "the jaw line must not be drawn"


def test_edge_map_thickness_two() -> None:
    lm = _layout()
    thick, thin = edge_map(lm), edge_map(lm, thickness=1)
    col = thick[:, 64, 0]  # the nose bridge is vertical at x = 64 from y = 20 to 38
    row = thick[30, :, 0]
    assert col[20:39].min() == 255
    assert np.flatnonzero(row[55:75]).size > np.flatnonzero(thin[30, 55:75, 0]).size == 1
    assert thick.sum() > thin.sum() * 1.5


def test_edge_map_follows_rounded_coordinates() -> None:
    lm = np.rint(_layout())
    assert np.array_equal(edge_map(lm - 0.3), edge_map(lm + 0.3))
    assert not np.array_equal(edge_map(lm), edge_map(lm + 1.0))


@pytest.mark.parametrize("bad", [np.zeros((67, 2)), np.zeros((68, 3)), np.full((68, 2), np.nan)])
def test_edge_map_rejects_bad_landmarks(bad: np.ndarray) -> None:
    with pytest.raises(AvsError):
        edge_map(bad)
