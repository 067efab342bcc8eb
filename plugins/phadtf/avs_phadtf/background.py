"""Pose realisation by background matching (reference ``Audio/code/choose_bg_gexinghua2_reassign.py``).

The network's predicted head angles are not rendered as they are: keyframes are taken at the local extrema
of the smoothed predicted angle, each keyframe is matched to the training frame whose recorded angles are
nearest (L1 over the 3 angles) within a window around the previous match, the frame indices in between are
interpolated, and every output frame takes the recorded pose **and background** of its assigned real frame.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import argrelextrema

from avs.api import AvsError
from avs_phadtf.config import BackgroundConfig

AXES = {"pitch": 0, "yaw": 1, "roll": 2}


def hanning_smooth(x: np.ndarray, window: int) -> np.ndarray:
    """Hanning-window smoothing with mirrored ends, same length as ``x`` (reference ``smooth``).

    Args:
        x: (N,) signal; returned unchanged when shorter than ``window`` or ``window < 3``.
        window: odd window length in samples.
    """
    x = np.asarray(x, dtype=np.float64)
    if window < 3 or x.size < window:
        return x.copy()
    s = np.r_[x[window - 1:0:-1], x, x[-2:-window - 1:-1]]
    w = np.hanning(window)
    y = np.convolve(w / w.sum(), s, mode="valid")
    return y[window // 2: -(window // 2)] if window // 2 else y


def _extrema(y: np.ndarray, order: int = 1) -> np.ndarray:
    return np.sort(np.concatenate([argrelextrema(y, np.greater, order=order)[0],
                                   argrelextrema(y, np.less, order=order)[0]]))


def keyframes(angles: np.ndarray, cfg: BackgroundConfig) -> np.ndarray:
    """Keyframe indices of a predicted angle track: 0, the thinned local extrema, N − 1.

    Args:
        angles: (N, 3) predicted pitch, yaw, roll (radians).

    Returns:
        sorted unique int indices, first 0 and last N − 1.
    """
    n = len(angles)
    axes = [0, 1, 2] if cfg.axis == "all" else [AXES[cfg.axis]]
    thre = n * cfg.keyframe_ratio * (2 if cfg.axis == "all" else 1)
    smooth = [hanning_smooth(angles[:, k], cfg.smooth_window) for k in axes]
    ids = [_extrema(y) for y in smooth]
    # thin: keep the extrema of the extrema (order 2) until few enough remain (reference while-loop)
    while sum(len(i) for i in ids) > thre:
        new = []
        for y, i in zip(smooth, ids, strict=True):
            sub = y[i]
            new.append(i[_extrema(sub, order=2)] if len(sub) else i)
        if all(len(a) == len(b) for a, b in zip(new, ids, strict=True)):
            break
        ids = new
    kf = np.unique(np.concatenate(ids)).astype(int) if ids else np.zeros(0, int)
    # merge keyframes closer than min_gap, keeping the one with the larger |angle|
    keep = list(kf)
    for i in range(1, len(keep)):
        if keep[i] - keep[i - 1] < cfg.min_gap:
            if np.abs(angles[keep[i]]).max() > np.abs(angles[keep[i - 1]]).max():
                keep[i - 1] = -1
            else:
                keep[i] = -1
    kf = np.array([k for k in keep if k >= 0], dtype=int)
    kf = kf[(kf > 0) & (kf < n - 1)]
    return np.concatenate([[0], kf, [n - 1]]).astype(int) if n > 1 else np.zeros(1, int)


def nearest(candidates: np.ndarray, query: np.ndarray) -> int:
    """Index of the candidate pose nearest to ``query`` in L1 over the three angles (reference ``nearest``)."""
    return int(np.argmin(np.abs(candidates[:, :3] - query[None, :3]).sum(axis=1)))


def match_background(pred_angles: np.ndarray, train_pose: np.ndarray, cfg: BackgroundConfig) -> np.ndarray:
    """Assign a real training frame to every output frame.

    Args:
        pred_angles: (N, 3) predicted pitch, yaw, roll (radians) of the output frames.
        train_pose: (M, ≥3) recorded angles (first 3 columns) of the person's training frames.
        cfg: keyframe and search parameters.

    Returns:
        (N,) int indices into ``train_pose``; the output frame i takes pose and background of that frame.

    Raises:
        AvsError: no training frames, or an unknown axis.
    """
    if cfg.axis not in (*AXES, "all"):
        raise AvsError(f"background.axis must be one of pitch, yaw, roll, all; got {cfg.axis!r}")
    m, n = len(train_pose), len(pred_angles)
    if m == 0:
        raise AvsError("background matching needs at least one training frame")
    if n == 0:
        return np.zeros(0, dtype=int)
    kf = keyframes(pred_angles, cfg)
    matched = np.zeros(len(kf), dtype=int)
    current = nearest(train_pose, pred_angles[0])
    matched[0] = current
    for i in range(1, len(kf)):
        period = kf[i] - kf[i - 1]
        lo = max(0, int(current - cfg.speed * period))
        hi = min(m, current + int(cfg.speed * period))
        if hi <= lo:
            lo, hi = max(0, min(lo, m - 1)), max(0, min(lo, m - 1)) + 1
        current = lo + nearest(train_pose[lo:hi], pred_angles[kf[i]])
        matched[i] = current
    assign = np.zeros(n, dtype=int)
    for i in range(len(kf) - 1):
        a, b = kf[i], kf[i + 1]
        steps = np.arange(b - a)
        assign[a:b] = np.round(steps / max(b - a, 1) * (matched[i + 1] - matched[i]) + matched[i]).astype(int)
    assign[kf[-1]] = matched[-1]
    return assign
