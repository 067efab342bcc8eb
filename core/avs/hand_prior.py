"""A hand-shape prior: project predicted 21-point hands onto the shapes seen in training.

Gesture regressors such as Speech2Gesture predict every hand keypoint on its own; when their
errors are as large as the finger bones, the fingers tangle into zig-zags that no hand makes.
A principal-component subspace of training hand shapes — the 2-D analogue of the PCA hand
pose space of MANO (Romero et al. 2017, "Embodied Hands", sec. 4) — removes that noise: each
predicted hand is put in a canonical frame (wrist at the origin, wrist → knuckle centroid along
+y, unit length), projected onto the first ``k`` components with coefficients clipped to
``±clip`` standard deviations, and mapped back. The wrist position, hand direction and hand
size stay the network's own; only the finger configuration is constrained. This is an avs
addition, not part of any reference method; plugins expose it as an inference option.

Hands use OpenPose's 21-point order: 0 wrist (hand root), then four points per finger from the
knuckle (MCP) to the tip, thumb first; the knuckles are points 5, 9, 13, 17 (index … little).
Numpy only.
"""

from __future__ import annotations

import numpy as np

from avs.errors import AvsError

__all__ = ["HAND_POINTS", "KNUCKLES", "fit_hand_prior", "project_hands"]

HAND_POINTS = 21
"""Points per hand (OpenPose order)."""

KNUCKLES = (5, 9, 13, 17)
"""MCP joints of the index, middle, ring and little fingers: their centroid fixes the hand frame."""


def _check_hands(hands: np.ndarray) -> np.ndarray:
    arr = np.asarray(hands, dtype=np.float64)
    if arr.ndim != 3 or arr.shape[1:] != (HAND_POINTS, 2):
        raise AvsError(f"expected hands of shape (N, {HAND_POINTS}, 2), got {arr.shape}")
    return arr


def _canonical_frame(hands: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per hand: wrist (N, 2), rotation (N, 2, 2) taking image offsets to the canonical frame, size (N,)."""
    wrist = hands[:, 0]
    axis = hands[:, list(KNUCKLES)].mean(axis=1) - wrist
    size = np.linalg.norm(axis, axis=-1)
    size = np.where(size > 1e-6, size, 1.0)
    u = axis / size[:, None]
    # rows: the canonical x axis (perpendicular to u) and y axis (u), so R @ offset = (across, along)
    rotation = np.stack([np.stack([u[:, 1], -u[:, 0]], -1), u], axis=1)
    return wrist, rotation, size


def _to_canonical(hands: np.ndarray) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    wrist, rotation, size = _canonical_frame(hands)
    offsets = hands[:, 1:] - wrist[:, None]
    canonical = np.einsum("nij,npj->npi", rotation, offsets) / size[:, None, None]
    return canonical.reshape(len(hands), -1), (wrist, rotation, size)


def fit_hand_prior(hands: np.ndarray, variance: float = 0.95, max_components: int = 12) -> dict[str, np.ndarray]:
    """Principal components of training hand shapes in the canonical hand frame.

    Args:
        hands: (N, 21, 2) float pixels, N ≥ 2 training frames of one hand (non-finite frames skipped).
        variance: keep the fewest components explaining at least this fraction of the variance.
        max_components: upper bound on the components kept.

    Returns:
        ``mean`` (40,), ``components`` (k, 40) orthonormal rows and ``scale`` (k,) standard
        deviations of the coefficients, float32, in units of the wrist → knuckle distance.

    Raises:
        AvsError: wrong shape, fewer than 2 finite frames, or ``variance`` outside (0, 1].
    """
    arr = _check_hands(hands)
    if not 0.0 < variance <= 1.0:
        raise AvsError(f"hand prior variance must be in (0, 1], got {variance}")
    arr = arr[np.isfinite(arr).all(axis=(1, 2))]
    if len(arr) < 2:
        raise AvsError("a hand prior needs at least 2 finite training frames")
    shapes, _ = _to_canonical(arr)
    mean = shapes.mean(axis=0)
    _, singular, vt = np.linalg.svd(shapes - mean, full_matrices=False)
    var = singular**2 / max(len(shapes) - 1, 1)
    explained = np.cumsum(var) / max(var.sum(), 1e-12)
    k = int(min(np.searchsorted(explained, variance - 1e-9) + 1, max_components, len(var)))
    return {"mean": mean.astype(np.float32), "components": vt[:k].astype(np.float32),
            "scale": np.sqrt(var[:k]).astype(np.float32)}


def project_hands(hands: np.ndarray, prior: dict[str, np.ndarray], clip: float = 3.0) -> np.ndarray:
    """Hands constrained to the prior's subspace, in the predicted hands' own position, direction and size.

    Args:
        hands: (T, 21, 2) float pixels.
        prior: from :func:`fit_hand_prior`.
        clip: coefficients are clipped to ``±clip · scale`` (``inf`` disables clipping).

    Returns:
        (T, 21, 2) float32 pixels; the wrist point is unchanged.

    Raises:
        AvsError: wrong shapes of ``hands`` or ``prior``.
    """
    arr = _check_hands(hands)
    mean = np.asarray(prior["mean"], np.float64)
    components = np.asarray(prior["components"], np.float64)
    scale = np.asarray(prior["scale"], np.float64)
    dim = 2 * (HAND_POINTS - 1)
    shapes_ok = components.ndim == 2 and components.shape[1] == dim and scale.shape == components.shape[:1]
    if mean.shape != (dim,) or not shapes_ok:
        raise AvsError("hand prior has wrong shapes (expected mean (40,), components (k, 40), scale (k,))")
    if len(arr) == 0:
        return arr.astype(np.float32)
    shapes, (wrist, rotation, size) = _to_canonical(arr)
    coeffs = np.clip((shapes - mean) @ components.T, -clip * scale, clip * scale)
    canonical = (mean + coeffs @ components).reshape(len(arr), HAND_POINTS - 1, 2) * size[:, None, None]
    offsets = np.einsum("nji,npj->npi", rotation, canonical)  # rotation is orthonormal: inverse = transpose
    out = np.concatenate([wrist[:, None], wrist[:, None] + offsets], axis=1)
    return out.astype(np.float32)
