"""Typed motion results: what a generator produces and a renderer consumes."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from avs.errors import AvsError


@dataclass
class Motion:
    """A time series of motion at an explicit frame rate.

    Attributes:
        kind: what ``data`` holds: ``"keypoints-2d"`` ((T, K, 2) float32 pixels),
            ``"blendshapes"`` ((T, 52) float32 in [0, 1]), ``"3dmm"`` ((T, C) float32
            coefficients) or ``"frames"`` ((T, H, W, 3) uint8).
        data: the array, time first.
        fps: frames per second of ``data``.
        extras: further named arrays of the same time length (e.g. confidences).
    """

    kind: str
    data: np.ndarray
    fps: float
    extras: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def num_frames(self) -> int:
        return int(self.data.shape[0])

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.num_frames / self.fps

    def save_npz(self, path: str | Path) -> Path:
        """Write ``data`` (as ``keypoints``/``blendshapes``/... by kind), ``fps`` and extras.

        Written to a temporary file and renamed, so a failed write leaves nothing behind.
        """
        from avs.io import atomic_path

        key = {"keypoints-2d": "keypoints", "blendshapes": "blendshapes", "3dmm": "coefficients"}.get(
            self.kind, "data"
        )
        path = Path(path)
        with atomic_path(path, suffix=".npz") as tmp:
            with open(tmp, "wb") as fh:
                np.savez(fh, **{key: self.data, "fps": np.float32(self.fps), "kind": np.str_(self.kind)},
                         **self.extras)
        return path


def frames_for_duration(duration_s: float, fps: float) -> int:
    """Number of video frames that cover ``duration_s`` seconds: ``round(duration * fps)``.

    Raises:
        AvsError: for a negative duration or non-positive fps.
    """
    if fps <= 0 or duration_s < 0:
        raise AvsError(f"invalid duration {duration_s} s or frame rate {fps} fps")
    return int(round(duration_s * fps))
