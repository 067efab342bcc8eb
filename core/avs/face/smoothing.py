"""Temporal smoothing of landmark tracks, short-gap filling, and a jitter measure.

Filter: Savitzky–Golay (``scipy.signal.savgol_filter``; Savitzky & Golay 1964), a local
least-squares polynomial fit: window 5 frames (200 ms at 25 fps), order 2. It removes
frame-to-frame tracker noise while keeping the peaks of fast mouth motion (a moving average of the
same length flattens them). It runs separately over each run of consecutive valid frames, so it
never mixes frames across a gap; runs shorter than the window are left as tracked.

Gaps: a gap of at most :data:`MAX_FILL` missing frames between two valid frames is filled by linear
interpolation (and flagged as interpolated); longer gaps stay missing (``valid`` False, NaN).
"""

from __future__ import annotations

import numpy as np
from scipy.signal import savgol_filter

WINDOW = 5
ORDER = 2
MAX_FILL = 2


def valid_runs(valid: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) of each run of consecutive True values of a (T,) bool array."""
    v = np.concatenate([[False], np.asarray(valid, bool), [False]])
    edges = np.flatnonzero(np.diff(v.astype(np.int8)))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def fill_short_gaps(x: np.ndarray, valid: np.ndarray, max_gap: int = MAX_FILL) -> tuple[np.ndarray, np.ndarray]:
    """Linearly interpolate gaps of at most ``max_gap`` frames between valid frames.

    Args:
        x: (T, ...) float array (values of invalid frames are ignored).
        valid: (T,) bool.
        max_gap: longest gap filled, frames.

    Returns:
        (x filled, (T,) bool mask of the frames filled). Leading/trailing gaps are never filled.
    """
    x = np.array(x, dtype=np.float32, copy=True)
    filled = np.zeros(len(valid), bool)
    runs = valid_runs(valid)
    for (_, stop), (start, _) in zip(runs[:-1], runs[1:], strict=True):
        gap = start - stop
        if 0 < gap <= max_gap:
            a, b = x[stop - 1], x[start]
            for i in range(gap):
                w = (i + 1) / (gap + 1)
                x[stop + i] = (1 - w) * a + w * b
            filled[stop:start] = True
    return x, filled


def smooth_landmarks(x: np.ndarray, valid: np.ndarray, window: int = WINDOW, order: int = ORDER) -> np.ndarray:
    """Savitzky–Golay smoothing along time within each valid run.

    Args:
        x: (T, ...) float landmarks (pixels); invalid frames are returned unchanged.
        valid: (T,) bool.
        window, order: the filter's window length (odd, frames) and polynomial order.

    Returns:
        (T, ...) float32 smoothed copy.
    """
    out = np.array(x, dtype=np.float32, copy=True)
    for start, stop in valid_runs(valid):
        if stop - start >= window:
            out[start:stop] = savgol_filter(out[start:stop], window, order, axis=0, mode="interp")
    return out


def landmark_jitter(x: np.ndarray, valid: np.ndarray) -> float:
    """Mean landmark jitter, pixels: the mean distance of each point from the midpoint of its
    neighbours in time, ‖x_t − (x_{t−1} + x_{t+1}) / 2‖, over triples of valid frames.

    Args:
        x: (T, K, D) landmarks (only x, y are used).
        valid: (T,) bool.

    Returns:
        Pixels; NaN when no three consecutive valid frames exist.
    """
    x = np.asarray(x, np.float64)[..., :2]
    v = np.asarray(valid, bool)
    ok = v[1:-1] & v[:-2] & v[2:]
    if x.shape[0] < 3 or not ok.any():
        return float("nan")
    d = x[1:-1] - 0.5 * (x[:-2] + x[2:])
    return float(np.linalg.norm(d, axis=-1)[ok].mean())
