"""Diversity of generated motion.

- ``l1div`` (EMAGE, Liu et al. 2024; PantoMatrix ``mertic.py::L1div``): (1/T) Σₜ Σ_d |x_td − mean_t(x_d)|,
  the spread of one sequence around its own mean pose. Higher = more varied motion.
- ``mean_pairwise_distance``: mean Euclidean distance between all pairs of generated samples'
  feature vectors (e.g. one feature vector per clip). Higher = more diverse outputs.
"""

from __future__ import annotations

import numpy as np

from avs.errors import AvsError


def l1div(motion: np.ndarray) -> float:
    """EMAGE L1 diversity of a sequence.

    Args:
        motion: (T, ...) poses (flattened per frame), any unit.

    Returns:
        Sum over dimensions of the mean absolute deviation from the sequence mean (same unit).

    Raises:
        AvsError: empty input or NaN.
    """
    x = np.asarray(motion, np.float64)
    if x.size == 0 or x.shape[0] == 0 or not np.isfinite(x).all():
        raise AvsError("L1 diversity needs non-empty, finite motion")
    x = x.reshape(x.shape[0], -1)
    return float(np.abs(x - x.mean(axis=0)).sum(axis=1).mean())


def mean_pairwise_distance(features: np.ndarray) -> float:
    """Mean Euclidean distance over all unordered pairs of rows.

    Args:
        features: (N, D), N ≥ 2.

    Raises:
        AvsError: fewer than 2 samples or NaN.
    """
    from scipy.spatial.distance import pdist

    f = np.asarray(features, np.float64)
    if f.ndim != 2 or f.shape[0] < 2 or not np.isfinite(f).all():
        raise AvsError("mean pairwise distance needs (N ≥ 2, D) finite features")
    return float(pdist(f).mean())
