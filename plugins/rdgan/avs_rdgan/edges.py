"""The landmark edge map: RD-GAN's expression feature image.

Source: RD-GAN (reference AuroraWJJ/RD-GAN, read from its bytecode): a black 128×128 image with white
landmark polylines of thickness 2 (dlib's 68-point layout, 0-based):

- brows 17–21 and 22–26 (open),
- nose bridge and base 27–35 (open) plus the segment 35–30,
- eyes 36–41 and 42–47 (closed),
- outer lips 48–59 and inner lips 60–67 (closed) plus the segments 48–60 and 54–64,
- no jaw line (0–16).

Drawn with ``cv2.polylines`` (8-connected lines, coordinates rounded to the nearest pixel: our choice,
the reference's rounding is not recoverable).
"""

from __future__ import annotations

import numpy as np

from avs.api import AvsError

POLYLINES: tuple[tuple[tuple[int, ...], bool], ...] = (
    (tuple(range(17, 22)), False),  # right brow
    (tuple(range(22, 27)), False),  # left brow
    (tuple(range(27, 36)), False),  # nose bridge 27–30 and base 31–35
    ((35, 30), False),  # nose base back to the tip
    (tuple(range(36, 42)), True),  # right eye
    (tuple(range(42, 48)), True),  # left eye
    (tuple(range(48, 60)), True),  # outer lips
    (tuple(range(60, 68)), True),  # inner lips
    ((48, 60), False),  # right mouth corner
    ((54, 64), False),  # left mouth corner
)
"""(landmark indices, closed) of every polyline of the edge map."""

THICKNESS = 2
"""Line thickness in pixels (reference 2)."""


def edge_map(lm68: np.ndarray, size: int = 128, thickness: int = THICKNESS) -> np.ndarray:
    """Draw the edge map of one face.

    Args:
        lm68: (68, 2) float landmark pixels in the crop's frame (x, y).
        size: side of the square image.
        thickness: line thickness in pixels.

    Returns:
        (size, size, 3) uint8: black, landmark polylines white (255).

    Raises:
        AvsError: landmarks not (68, 2) or not finite.
    """
    import cv2

    lm = np.asarray(lm68, np.float64)
    if lm.shape != (68, 2) or not np.isfinite(lm).all():
        raise AvsError(f"landmarks must be a finite (68, 2) array, got shape {lm.shape}")
    pts = np.rint(lm).astype(np.int32)
    image = np.zeros((size, size, 3), np.uint8)
    for indices, closed in POLYLINES:
        cv2.polylines(image, [pts[list(indices)].reshape(-1, 1, 2)], closed, (255, 255, 255), thickness,
                      lineType=cv2.LINE_8)
    return image


def edge_maps(lm68: np.ndarray, size: int = 128) -> np.ndarray:
    """Edge maps of a sequence: (T, 68, 2) → (T, size, size, 3) uint8."""
    return np.stack([edge_map(f, size) for f in np.asarray(lm68)])
