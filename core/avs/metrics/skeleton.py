"""Plausibility of a 2-D skeleton over time: do bones keep their length, do fingers tangle?

Two numbers for judging generated gesture keypoints without ground truth (ours; no reference
method defines them):

- :func:`bone_length_variation`: a rigid skeleton keeps every bone's length; a model that
  predicts keypoints independently stretches and shrinks them.
- :func:`finger_crossing_rate`: the fraction of frames in which two finger segments of one hand
  cross each other (the "tangled zig-zag" look).

Numpy only.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from avs.errors import AvsError

__all__ = ["bone_length_variation", "finger_crossing_rate", "segments_cross"]


def _as_clips(keypoints: np.ndarray) -> np.ndarray:
    kp = np.asarray(keypoints, dtype=np.float64)
    if kp.ndim == 3:
        kp = kp[None]
    if kp.ndim != 4 or kp.shape[-1] != 2:
        raise AvsError(f"expected keypoints of shape (T, K, 2) or (N, T, K, 2), got {kp.shape}")
    return kp


def bone_length_variation(keypoints: np.ndarray, edges: Sequence[tuple[int, int]],
                          min_length_fraction: float = 0.05) -> float:
    """Mean coefficient of variation of bone lengths over time (0 for a rigid skeleton).

    For each clip and bone, the standard deviation of the bone's length over the clip's frames
    divided by its mean length; averaged over bones and clips. Bones whose mean length is under
    ``min_length_fraction`` of the clip's median bone length are skipped (e.g. the OpenPose wrist
    and hand-root points that coincide), since their relative variation is meaningless.

    Args:
        keypoints: (T, K, 2) or (N, T, K, 2) pixels, any units; NaN marks an unknown keypoint
            (its bones are scored over the frames where both ends are known).
        edges: (parent, child) keypoint index pairs.
        min_length_fraction: see above.

    Returns:
        unitless ratio ≥ 0; lower is more rigid (a 2-D projection of a moving 3-D body is not 0).

    Raises:
        AvsError: bad shapes, an edge index out of range, fewer than 2 frames, or no edges.
    """
    kp = _as_clips(keypoints)
    if kp.shape[1] < 2:
        raise AvsError("bone_length_variation needs at least 2 frames")
    e = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    if e.size == 0:
        raise AvsError("bone_length_variation needs at least one edge")
    if e.min() < 0 or e.max() >= kp.shape[2]:
        raise AvsError(f"edge index out of range for {kp.shape[2]} keypoints")
    lengths = np.linalg.norm(kp[:, :, e[:, 1]] - kp[:, :, e[:, 0]], axis=-1)  # (N, T, E); NaN where unknown
    finite = np.isfinite(lengths).sum(axis=1)  # (N, E) frames in which the bone is known
    if not (finite >= 2).any():
        raise AvsError("bone_length_variation: no bone is known (finite) in 2 or more frames")
    known = np.where(np.isfinite(lengths), lengths, 0.0)
    mean = known.sum(axis=1) / np.maximum(finite, 1)
    std = np.sqrt(np.maximum((known**2).sum(axis=1) / np.maximum(finite, 1) - mean**2, 0.0))
    median = np.nanmedian(np.where(finite >= 2, mean, np.nan), axis=1, keepdims=True)
    keep = (finite >= 2) & (mean >= min_length_fraction * median) & (mean > 0)
    cv = std / np.where(keep, mean, 1.0)
    return float(cv[keep].mean())


def segments_cross(p1: np.ndarray, p2: np.ndarray, q1: np.ndarray, q2: np.ndarray) -> np.ndarray:
    """Whether segments p1–p2 and q1–q2 properly intersect (cross at one interior point).

    Touching at an end point, or collinear overlap, does not count.

    Args:
        p1, p2, q1, q2: (..., 2) end points, broadcastable.

    Returns:
        (...) bool.
    """
    def orient(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
        return (b[..., 0] - a[..., 0]) * (c[..., 1] - a[..., 1]) - (b[..., 1] - a[..., 1]) * (c[..., 0] - a[..., 0])

    d1, d2 = orient(q1, q2, p1), orient(q1, q2, p2)
    d3, d4 = orient(p1, p2, q1), orient(p1, p2, q2)
    return (d1 * d2 < 0) & (d3 * d4 < 0)


def finger_crossing_rate(keypoints: np.ndarray, hands: Sequence[Sequence[Sequence[int]]]) -> float:
    """Fraction of frames in which two segments of one hand's fingers cross.

    Every pair of finger segments of the same hand is tested, segments of different fingers and
    non-adjacent segments of the same finger alike (a finger folding over itself is a zig-zag
    too); segments that share a keypoint (adjacent bones, bones leaving the hand root) are
    skipped. A frame counts once however many pairs cross, whichever hand.

    Args:
        keypoints: (T, K, 2) or (N, T, K, 2) pixels.
        hands: per hand, its fingers as keypoint chains from the hand root to the tip, e.g.
            ``[[[7, 8, 9, 10, 11], ...5 fingers], [[28, 29, ...], ...]]``.

    Returns:
        fraction in [0, 1] of all frames (of all clips); 0 for a hand that never tangles.

    Raises:
        AvsError: bad shapes or an index out of range.
    """
    kp = _as_clips(keypoints)
    frames = kp.reshape(-1, kp.shape[2], 2)
    crossed = np.zeros(frames.shape[0], dtype=bool)
    for fingers in hands:
        segs = [(a, b) for chain in fingers for a, b in zip(chain[:-1], chain[1:], strict=True)]
        if not segs:
            continue
        idx = np.asarray(segs, dtype=np.int64)
        if idx.min() < 0 or idx.max() >= frames.shape[1]:
            raise AvsError(f"finger keypoint index out of range for {frames.shape[1]} keypoints")
        pairs = [(i, j) for i in range(len(segs)) for j in range(i + 1, len(segs))
                 if not set(segs[i]) & set(segs[j])]
        if not pairs:
            continue
        pi, pj = np.asarray(pairs).T
        a, b = frames[:, idx[pi, 0]], frames[:, idx[pi, 1]]
        c, d = frames[:, idx[pj, 0]], frames[:, idx[pj, 1]]
        crossed |= segments_cross(a, b, c, d).any(axis=1)
    return float(crossed.mean())
