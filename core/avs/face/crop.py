"""Aspect-preserving, zero-padded face crops (RD-GAN's crop; PHADTF's 256² face frames)."""

from __future__ import annotations

import numpy as np

from avs.errors import AvsError


def box_from_landmarks(points: np.ndarray) -> np.ndarray:
    """(4,) float32 bounding box x0, y0, x1, y1 of (K, 2+) landmarks (pixels)."""
    xy = np.asarray(points, np.float32)[:, :2]
    return np.concatenate([xy.min(0), xy.max(0)])


def square_box(box: np.ndarray, margin: float = 0.0) -> np.ndarray:
    """A square box around ``box``'s centre: side = longer side × (1 + 2·margin). (4,) float32."""
    x0, y0, x1, y1 = np.asarray(box, np.float64)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    half = max(x1 - x0, y1 - y0) * (0.5 + margin)
    return np.array([cx - half, cy - half, cx + half, cy + half], np.float32)


def aligned_crop(image: np.ndarray, box: np.ndarray, size: int, pad_value: int = 0,
                 keep_outside: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Crop ``box`` out of ``image``, resize it keeping its aspect ratio so its longer side is
    ``size``, centre it in a ``size``×``size`` square and pad the rest with ``pad_value``.

    This is RD-GAN's face crop (landmark bounding box, aspect-preserving cubic resize, zero padding
    to 128²); with a square box (:func:`square_box`) it is a plain square crop, and parts of the box
    outside the image are padded too.

    Args:
        image: (H, W, 3) uint8 RGB.
        box: (4,) x0, y0, x1, y1 pixels (x1 > x0, y1 > y0).
        size: output side, pixels.
        pad_value: value of the padding (0 = black).
        keep_outside: if True, image content around the box fills the square instead of padding.

    Returns:
        (crop (size, size, 3) uint8, affine (2, 3) float64 mapping full-image pixel (x, y, 1) to crop pixels).

    Raises:
        AvsError: empty or non-finite box, size < 2.
    """
    import cv2

    x0, y0, x1, y1 = (float(v) for v in np.asarray(box, np.float64).reshape(4))
    if not np.isfinite([x0, y0, x1, y1]).all() or x1 <= x0 or y1 <= y0:
        raise AvsError(f"cannot crop an empty or invalid box {[x0, y0, x1, y1]}")
    if size < 2:
        raise AvsError(f"crop size must be at least 2 pixels, got {size}")
    scale = size / max(x1 - x0, y1 - y0)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    affine = np.array([[scale, 0.0, size / 2 - scale * cx], [0.0, scale, size / 2 - scale * cy]])
    # pixel centres: cv2 maps pixel centres, so the half-pixel offsets cancel for a pure scale + shift
    crop = cv2.warpAffine(np.ascontiguousarray(image), affine, (size, size), flags=cv2.INTER_CUBIC,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=(pad_value,) * 3)
    if not keep_outside:
        (bx0, by0), (bx1, by1) = (affine[:, :2] @ np.array([[x0, x1], [y0, y1]]) + affine[:, 2:]).T
        lo = np.ceil(np.array([bx0, by0]) - 1e-6).astype(int).clip(0, size)
        hi = (np.floor(np.array([bx1, by1]) + 1e-6).astype(int) + 1).clip(0, size)
        mask = np.zeros((size, size), bool)
        mask[lo[1]:hi[1], lo[0]:hi[0]] = True
        crop[~mask] = pad_value
    return crop, affine
