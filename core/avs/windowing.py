"""Windowed inference: run a model over long input in overlapping windows and cross-fade.

Memory stays flat as the input grows: the model only ever sees ``window`` frames at a time,
and the (num_frames, ...) float32 output is the only allocation that grows with the length.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from avs.errors import AvsError

__all__ = ["window_starts", "windowed_inference"]


def window_starts(num_frames: int, window: int, overlap: int) -> list[int]:
    """Start frames of the windows that :func:`windowed_inference` runs.

    Windows start every ``window - overlap`` frames; the last one is shifted back to end
    exactly at ``num_frames`` so every window is full length (models trained on fixed-length
    windows see what they were trained on); its overlap with the previous window is then
    larger than ``overlap``. With ``num_frames <= window`` there is one window, ``[0,
    num_frames)``.

    Raises:
        AvsError: ``num_frames < 1``, ``window < 1``, ``overlap < 0`` or ``overlap >= window``.
    """
    _check(num_frames, window, overlap)
    if num_frames <= window:
        return [0]
    stride = window - overlap
    starts = list(range(0, num_frames - window, stride))
    starts.append(num_frames - window)
    return starts


def windowed_inference(
    num_frames: int,
    window: int,
    overlap: int,
    run: Callable[[int, int], np.ndarray],
) -> np.ndarray:
    """Cover frames ``[0, num_frames)`` with overlapping windows and cross-fade the results.

    ``run(start, stop)`` is called once per window (in order, ``stop - start <= window``; see
    :func:`window_starts` for where they fall) and must return an array of shape
    ``(stop - start, ...)``. Where a window overlaps the previous one, the two are blended
    linearly: over an overlap of ``L`` frames the new window's weight rises
    ``1/(L+1), 2/(L+1), ..., L/(L+1)`` and the previous result's falls correspondingly,
    so the output is continuous and a constant signal is reproduced exactly.

    Args:
        num_frames: total length in frames (>= 1).
        window: frames per call (>= 1).
        overlap: frames shared by neighbouring windows (0 <= overlap < window).
        run: the model, mapping a frame range to (stop - start, ...) outputs.

    Returns:
        (num_frames, ...) float32 array.

    Raises:
        AvsError: invalid ``num_frames``, ``window`` or ``overlap``.
        ValueError: ``run`` returned an array of the wrong shape (a bug in the caller).
    """
    out: np.ndarray | None = None
    filled = 0  # frames [0, filled) of ``out`` hold results
    for start in window_starts(num_frames, window, overlap):
        stop = min(start + window, num_frames)
        chunk = np.asarray(run(start, stop))
        if chunk.ndim < 1 or chunk.shape[0] != stop - start:
            raise ValueError(
                f"run({start}, {stop}) returned shape {chunk.shape}, expected ({stop - start}, ...)"
            )
        if out is None:
            out = np.empty((num_frames, *chunk.shape[1:]), dtype=np.float32)
        elif chunk.shape[1:] != out.shape[1:]:
            raise ValueError(
                f"run({start}, {stop}) returned shape {chunk.shape}, expected ({stop - start}, "
                f"{', '.join(map(str, out.shape[1:]))})"
            )
        shared = filled - start
        if shared > 0:
            weight = (np.arange(1, shared + 1, dtype=np.float32) / np.float32(shared + 1)).reshape(
                (shared,) + (1,) * (chunk.ndim - 1)
            )
            region = out[start:filled]
            region *= 1 - weight
            region += weight * chunk[:shared]
        out[filled:stop] = chunk[shared:]
        filled = stop
    assert out is not None and filled == num_frames
    return out


def _check(num_frames: int, window: int, overlap: int) -> None:
    for name, value in (("num_frames", num_frames), ("window", window), ("overlap", overlap)):
        if int(value) != value:
            raise AvsError(f"{name} must be an integer, got {value!r}")
    if num_frames < 1:
        raise AvsError(f"nothing to process: {num_frames} frames")
    if window < 1:
        raise AvsError(f"window must be at least 1 frame, got {window}")
    if not 0 <= overlap < window:
        raise AvsError(f"overlap must be in [0, window) = [0, {window}), got {overlap}")
