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


def two_face_canvas() -> np.ndarray:
    """(240, 440, 3) uint8: the astronaut's face at full size (left) and at 0.75× (right)."""
    import cv2

    a = astronaut()[20:260, 110:350]
    canvas = np.zeros((240, 440, 3), np.uint8)
    canvas[:, :240] = a
    canvas[30:210, 250:430] = cv2.resize(a, (180, 180), interpolation=cv2.INTER_AREA)
    return canvas


def speechlike_audio(seconds: float, sample_rate: int = 16000, seed: int = 0) -> np.ndarray:
    """Amplitude-modulated noise (4 Hz syllable rate), float32 in [-0.5, 0.5]."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(round(seconds * sample_rate))) / sample_rate
    return (0.3 * (0.5 + 0.5 * np.sin(2 * np.pi * 4 * t)) * rng.uniform(-1, 1, t.size)).astype(np.float32)


def write_clip(path: Path, frames: list[np.ndarray], fps: float, audio: bool = True) -> Path:
    """Encode frames (+ speech-like audio of the same length) with avs.video.write_video."""
    from avs.video import write_video

    sound = speechlike_audio(len(frames) / fps) if audio else None
    return write_video(path, iter(frames), fps, len(frames), audio=sound, sample_rate=16000 if audio else None,
                       crf=12)


def moving(image: np.ndarray, n: int, amplitude: float = 6.0) -> list[np.ndarray]:
    """``n`` frames of ``image`` translated along a small circle (pixels)."""
    import cv2

    h, w = image.shape[:2]
    out = []
    for i in range(n):
        a = 2 * np.pi * i / max(n, 1)
        M = np.float32([[1, 0, amplitude * np.cos(a)], [0, 1, amplitude * np.sin(a)]])
        out.append(cv2.warpAffine(image, M, (w, h), borderMode=cv2.BORDER_REFLECT))
    return out
