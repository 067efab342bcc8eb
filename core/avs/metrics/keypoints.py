"""Keypoint metrics: L1 and PCK.

L1 as speech2gesture ``audio_to_multiple_pose_gan/tf_layers.py::keypoints_regloss`` (mean absolute
error); PCK as speech2gesture ``common/evaluation.py::compute_pck``: a keypoint is correct if its
distance to the ground truth is at most α·max(w, h) of the ground-truth bounding box of its frame;
the per-frame fraction of correct keypoints is averaged over frames. The reference's default is
α = 0.2 (its docstring cites 0.1, as the paper does): report both.
"""

from __future__ import annotations

import numpy as np

from avs.errors import AvsError


def _check_pair(pred: np.ndarray, gt: np.ndarray, what: str) -> tuple[np.ndarray, np.ndarray]:
    pred = np.asarray(pred, dtype=np.float64)
    gt = np.asarray(gt, dtype=np.float64)
    if pred.shape != gt.shape:
        raise AvsError(f"{what}: prediction shape {pred.shape} differs from ground truth shape {gt.shape}")
    if pred.size == 0:
        raise AvsError(f"{what}: empty input")
    if not (np.isfinite(pred).all() and np.isfinite(gt).all()):
        raise AvsError(f"{what}: input contains NaN or infinite values")
    return pred, gt


def l1(pred: np.ndarray, gt: np.ndarray) -> float:
    """Mean absolute error over all elements.

    Args:
        pred: any shape, e.g. (N, T, 96) normalised poses or (N, K, 2) keypoints in pixels.
        gt: the same shape as ``pred``.

    Returns:
        mean |pred − gt|, in the inputs' unit (lower is better).

    Raises:
        AvsError: on different shapes, empty input, NaN or infinite values.
    """
    pred, gt = _check_pair(pred, gt, "L1")
    return float(np.mean(np.abs(pred - gt)))


def pck(pred: np.ndarray, gt: np.ndarray, alpha: float = 0.2) -> float:
    """Percentage of correct keypoints (speech2gesture ``common/evaluation.py::compute_pck``).

    Per frame, the radius is ``alpha * max(w, h)`` of the bounding box of that frame's ground-truth
    keypoints (over the keypoints passed in: for Speech2Gesture the 48 non-neck keypoints); a
    keypoint is correct if ``‖pred − gt‖₂ ≤ radius``. The fraction of correct keypoints of each frame
    is averaged over frames.

    Args:
        pred: (N, K, 2) predicted keypoints in pixels (any leading dimensions, flattened to frames).
        gt: (N, K, 2) ground-truth keypoints in pixels.
        alpha: fraction of the bounding box's larger side (0.1 in the paper, 0.2 the reference default).

    Returns:
        PCK in [0, 1] (higher is better).

    Raises:
        AvsError: on different shapes, a last dimension other than 2, empty input, NaN or infinite
            values, or a negative ``alpha``.
    """
    pred, gt = _check_pair(pred, gt, "PCK")
    if gt.ndim < 2 or gt.shape[-1] != 2:
        raise AvsError(f"PCK: keypoints must be (N, K, 2), got {gt.shape}")
    if not alpha >= 0:
        raise AvsError(f"PCK: alpha must be non-negative, got {alpha}")
    k = gt.shape[-2]
    pred = pred.reshape(-1, k, 2)
    gt = gt.reshape(-1, k, 2)
    extent = gt.max(axis=1) - gt.min(axis=1)  # (N, 2): box width, height per frame
    radius = alpha * extent.max(axis=1)  # (N,)
    correct = np.linalg.norm(pred - gt, axis=-1) <= radius[:, None]  # (N, K)
    return float(correct.mean(axis=1).mean())


def l2_px(pred: np.ndarray, gt: np.ndarray) -> float:
    """Mean Euclidean distance per keypoint per frame (SDT's "L2" in pixels; lower is better).

    Args:
        pred, gt: (..., K, 2) keypoints in pixels.

    Raises:
        AvsError: on different shapes, a last dimension other than 2, empty input, NaN.
    """
    pred, gt = _check_pair(pred, gt, "L2")
    if gt.shape[-1] != 2:
        raise AvsError(f"L2: keypoints must be (..., K, 2), got {gt.shape}")
    return float(np.linalg.norm(pred - gt, axis=-1).mean())


def lip_sync_error(pred: np.ndarray, gt: np.ndarray, upper: int, lower: int) -> float:
    """SDT lip-sync error (Qian et al. 2021; SDT ``core/pipelines/voice2pose.py``).

    The lip opening ‖p[upper] − p[lower]‖ of prediction and ground truth, each divided by the
    clip's largest ground-truth opening plus 1e-4 px (the reference's guard for a mouth that never
    opens), then the mean absolute difference. For the 121-keypoint
    SDT layout the lips are face #62 and #66 (keypoints 71 and 75).

    Args:
        pred, gt: (N, T, K, 2) clips of keypoints in pixels.
        upper, lower: keypoint indices of the upper and lower lip.

    Returns:
        A fraction of the clip's maximum opening (lower is better).

    Raises:
        AvsError: shapes, NaN, bad indices.
    """
    pred, gt = _check_pair(pred, gt, "lip-sync error")
    if gt.ndim != 4 or gt.shape[-1] != 2:
        raise AvsError(f"lip-sync error: clips must be (N, T, K, 2), got {gt.shape}")
    k = gt.shape[2]
    if not (0 <= upper < k and 0 <= lower < k) or upper == lower:
        raise AvsError(f"lip-sync error: lip keypoints {upper}, {lower} invalid for {k} keypoints")
    open_pred = np.linalg.norm(pred[:, :, upper] - pred[:, :, lower], axis=-1)  # (N, T)
    open_gt = np.linalg.norm(gt[:, :, upper] - gt[:, :, lower], axis=-1)
    scale = open_gt.max(axis=1, keepdims=True) + 1e-4
    return float(np.abs(open_pred / scale - open_gt / scale).mean())
