"""Input checks shared by the metrics: one-line AvsError for every bad pair."""

from __future__ import annotations

import numpy as np

from avs.errors import AvsError


def check_pair(pred: np.ndarray, gt: np.ndarray, what: str, min_ndim: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Float64 copies of ``pred`` and ``gt`` after checking they fit together.

    Raises:
        AvsError: different shapes, empty arrays, too few dimensions, NaN or infinity.
    """
    p, g = np.asarray(pred, np.float64), np.asarray(gt, np.float64)
    if p.shape != g.shape:
        raise AvsError(f"{what}: prediction {p.shape} and ground truth {g.shape} differ in shape")
    if p.size == 0:
        raise AvsError(f"{what}: empty input")
    if p.ndim < min_ndim:
        raise AvsError(f"{what}: expected at least {min_ndim} dimensions, got shape {p.shape}")
    if not np.isfinite(p).all():
        raise AvsError(f"{what}: the prediction contains NaN or infinity")
    if not np.isfinite(g).all():
        raise AvsError(f"{what}: the ground truth contains NaN or infinity")
    return p, g
