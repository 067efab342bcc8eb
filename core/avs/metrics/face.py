"""Face metrics: blendshape-coefficient errors by region, velocity error, LVE and EVE.

References: LVE in the CodeTalker form (Xing et al. 2023, ``main/cal_metric.py``: per frame the
*maximum* over lip vertices of the squared L2 error, averaged over frames; MeshTalk takes a
square root, torchmetrics ``functional/multimodal/lve.py`` follows CodeTalker). EVE is the same
over eye and forehead vertices (EmoTalk, Peng et al. 2023, Sec. 4; no implementation released).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from avs.errors import AvsError
from avs.metrics._checks import check_pair


def region_error(pred: np.ndarray, gt: np.ndarray, channels: Sequence[int]) -> float:
    """Mean absolute error of blendshape coefficients over a region's channels.

    Args:
        pred, gt: (T, C) float coefficients (e.g. C = 52 ARKit blendshapes at 30 fps).
        channels: indices of the region (e.g. mouth/jaw, eyes/brows).

    Returns:
        Mean |pred − gt| in coefficient units; lower is better.

    Raises:
        AvsError: shape mismatch, NaN, empty input, empty or out-of-range channels.
    """
    p, g = check_pair(pred, gt, "region error", min_ndim=2)
    idx = np.asarray(list(channels), dtype=int)
    if idx.size == 0 or idx.min() < 0 or idx.max() >= p.shape[-1]:
        raise AvsError(f"region error: channels must be indices in [0, {p.shape[-1]})")
    return float(np.abs(p[..., idx] - g[..., idx]).mean())


def velocity_error(pred: np.ndarray, gt: np.ndarray) -> float:
    """Mean absolute error of frame-to-frame differences (units per frame); lower is better.

    Args:
        pred, gt: (T, ...) with T ≥ 2, time first.

    Raises:
        AvsError: shape mismatch, NaN, fewer than 2 frames.
    """
    p, g = check_pair(pred, gt, "velocity error")
    if p.shape[0] < 2:
        raise AvsError("velocity error needs at least 2 frames")
    return float(np.abs(np.diff(p, axis=0) - np.diff(g, axis=0)).mean())


def blendshape_vertices(weights: np.ndarray, neutral: np.ndarray, deltas: np.ndarray) -> np.ndarray:
    """Vertices of a linear blendshape rig: neutral + Σ_k w_k · delta_k.

    Args:
        weights: (T, K) blendshape weights (K = 52 for ARKit).
        neutral: (V, 3) neutral-face vertices (rig units, e.g. metres).
        deltas: (K, V, 3) per-blendshape vertex offsets.

    Returns:
        (T, V, 3) float64 vertices.

    Raises:
        AvsError: shapes that do not fit together.
    """
    w, n, d = (np.asarray(a, np.float64) for a in (weights, neutral, deltas))
    if w.ndim != 2 or n.ndim != 2 or n.shape[1] != 3 or d.shape != (w.shape[1], n.shape[0], 3):
        raise AvsError(f"rig shapes do not fit: weights {w.shape}, neutral {n.shape}, deltas {d.shape} "
                       f"(expected (T, K), (V, 3), (K, V, 3))")
    return n[None] + np.einsum("tk,kvc->tvc", w, d)


def _max_vertex_error(pred: np.ndarray, gt: np.ndarray, indices: Sequence[int], what: str) -> float:
    p, g = check_pair(pred, gt, what, min_ndim=3)
    if p.shape[-1] != 3:
        raise AvsError(f"{what}: vertices must be (T, V, 3), got {p.shape}")
    idx = np.asarray(list(indices), dtype=int)
    if idx.size == 0 or idx.min() < 0 or idx.max() >= p.shape[1]:
        raise AvsError(f"{what}: vertex indices must be in [0, {p.shape[1]})")
    squared = ((p[:, idx] - g[:, idx]) ** 2).sum(-1)  # (T, |idx|)
    return float(squared.max(axis=1).mean())


def lve(pred_vertices: np.ndarray, gt_vertices: np.ndarray, lip_indices: Sequence[int]) -> float:
    """Lip vertex error: per frame the max squared L2 error over lip vertices, mean over frames.

    Args:
        pred_vertices, gt_vertices: (T, V, 3) in rig units (squared units out; lower is better).
        lip_indices: vertex indices of the lip region.

    Raises:
        AvsError: shape mismatch, NaN, bad indices.
    """
    return _max_vertex_error(pred_vertices, gt_vertices, lip_indices, "LVE")


def eve(pred_vertices: np.ndarray, gt_vertices: np.ndarray, eye_indices: Sequence[int]) -> float:
    """Emotional vertex error (EmoTalk): :func:`lve`'s form over eye and forehead vertices."""
    return _max_vertex_error(pred_vertices, gt_vertices, eye_indices, "EVE")
