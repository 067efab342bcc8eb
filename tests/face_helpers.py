"""Helpers of the face tests: skip without the face extra; the sample videos when present."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLE_VIDEOS = REPO.parent / "shared" / "samples" / "video"


def _have_face_extra() -> bool:
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in ("mediapipe", "dlib", "face_recognition_models"))


requires_face = pytest.mark.skipif(not _have_face_extra(), reason="face extra not installed (avs-toolkit[face])")


def sample_video(name: str) -> Path:
    path = SAMPLE_VIDEOS / name
    if not path.is_file():
        pytest.skip(f"sample video {name} absent (the shared samples folder is not next to the repository)")
    return path


def astronaut() -> np.ndarray:
    """skimage's astronaut photo (Eileen Collins, NASA; public domain), 512×512 RGB."""
    from skimage.data import astronaut as photo

    return photo()


def affine_frames(image: np.ndarray, angles_deg: np.ndarray, shifts: np.ndarray, scales: np.ndarray,
                  centre: tuple[float, float]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The photo rotated by angle (counter-clockwise on screen), scaled and shifted about ``centre``.

    Returns (frames, 2×3 affines)."""
    import cv2

    frames, affines = [], []
    h, w = image.shape[:2]
    for a, (dx, dy), s in zip(angles_deg, shifts, scales, strict=True):
        M = cv2.getRotationMatrix2D(centre, float(a), float(s))
        M[:, 2] += (dx, dy)
        frames.append(cv2.warpAffine(image, M, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT))
        affines.append(M)
    return frames, affines
