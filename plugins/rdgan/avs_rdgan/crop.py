"""Face crops: the landmark bounding box, resized keeping its aspect and zero-padded to a square.

Source: RD-GAN's data preparation (reference AuroraWJJ/RD-GAN, read from its bytecode): crop to the
bounding box of the 68 landmarks, cubic aspect-preserving resize, zero padding to 128×128, values
scaled to [−1, 1]. The padding is centred (the reference's placement is not recoverable: our choice).
"""

from __future__ import annotations

import numpy as np

from avs.api import AvsError


def landmark_box(lm68: np.ndarray) -> np.ndarray:
    """Bounding box of landmarks.

    Args:
        lm68: (68, 2) float pixels (x, y).

    Returns:
        (4,) float64 ``x0, y0, x1, y1`` pixels.

    Raises:
        AvsError: not (68, 2) or not finite.
    """
    lm = np.asarray(lm68, np.float64)
    if lm.shape != (68, 2) or not np.isfinite(lm).all():
        raise AvsError(f"landmarks must be a finite (68, 2) array of pixels, got shape {lm.shape}")
    return np.concatenate([lm.min(0), lm.max(0)])


def box_affine(box: np.ndarray, size: int) -> np.ndarray:
    """The 2×3 affine that maps a box onto a ``size``² square, aspect kept, centred.

    Args:
        box: (4,) ``x0, y0, x1, y1`` pixels.
        size: side of the square in pixels.

    Returns:
        (2, 3) float64: ``[x', y'] = A[:, :2] @ [x, y] + A[:, 2]``.

    Raises:
        AvsError: a degenerate box (a side under one pixel).
    """
    x0, y0, x1, y1 = (float(v) for v in box)
    w, h = x1 - x0, y1 - y0
    if min(w, h) < 1.0:
        raise AvsError(f"degenerate face box {w:.1f}×{h:.1f} px")
    s = size / max(w, h)
    ox, oy = (size - w * s) / 2.0, (size - h * s) / 2.0
    return np.array([[s, 0.0, ox - s * x0], [0.0, s, oy - s * y0]], np.float64)


def apply_affine(affine: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Points (..., 2) mapped by a 2×3 affine; float32 out."""
    p = np.asarray(points, np.float64)
    return (p @ affine[:, :2].T + affine[:, 2]).astype(np.float32)


def invert_affine(affine: np.ndarray) -> np.ndarray:
    """Inverse of a 2×3 affine (OpenCV's ``invertAffineTransform``)."""
    import cv2

    return cv2.invertAffineTransform(np.asarray(affine, np.float64))


def crop_face(image: np.ndarray, lm68: np.ndarray, size: int = 128) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Crop a face to its landmark box (cubic, aspect kept, zero-padded).

    Args:
        image: (H, W, 3) uint8 RGB.
        lm68: (68, 2) float landmark pixels of ``image``.
        size: side of the crop.

    Returns:
        ``crop`` (size, size, 3) uint8, ``lm`` (68, 2) float32 landmarks in crop pixels, ``affine``
        (2, 3) float64 full-image → crop.

    Raises:
        AvsError: bad landmarks or a degenerate box.
    """
    import cv2

    box = landmark_box(lm68)
    affine = box_affine(box, size)
    crop = cv2.warpAffine(np.ascontiguousarray(image), affine, (size, size), flags=cv2.INTER_CUBIC,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))
    # Only the box itself is kept: the padding is zeros, not the image around the box.
    (x0, y0), (x1, y1) = apply_affine(affine, box.reshape(2, 2))
    x0, y0, x1, y1 = (int(round(float(v))) for v in (x0, y0, x1, y1))
    crop[:max(y0, 0)] = 0
    crop[max(y1, 0):] = 0
    crop[:, :max(x0, 0)] = 0
    crop[:, max(x1, 0):] = 0
    return crop, apply_affine(affine, lm68), affine


def normalise_landmarks(lm68: np.ndarray, size: int = 128) -> np.ndarray:
    """Landmarks mapped into their own box's ``size``² crop (what an edge map is drawn from).

    Args:
        lm68: (68, 2) or (T, 68, 2) float pixels.

    Returns:
        The same shape, float32 crop pixels.
    """
    lm = np.asarray(lm68, np.float64)
    if lm.ndim == 2:
        return apply_affine(box_affine(landmark_box(lm), size), lm)
    return np.stack([normalise_landmarks(f, size) for f in lm])


def to_unit(image: np.ndarray) -> np.ndarray:
    """uint8 (H, W, 3) → float32 (3, H, W) in [−1, 1]."""
    return (np.asarray(image, np.float32).transpose(2, 0, 1) / 127.5 - 1.0).astype(np.float32)


def from_unit(x: np.ndarray) -> np.ndarray:
    """float (3, H, W) in [−1, 1] → uint8 (H, W, 3)."""
    return np.clip(np.rint((np.asarray(x, np.float32).transpose(1, 2, 0) + 1.0) * 127.5), 0, 255).astype(np.uint8)
