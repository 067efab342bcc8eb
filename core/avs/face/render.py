"""Face preview renderer (OpenCV): landmarks or mesh over the frame; real | generated side by side."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

# dlib 68-point polylines: (first, last, closed) — jaw, brows, nose bridge and base, eyes, lips
LM68_CURVES = ((0, 16, False), (17, 21, False), (22, 26, False), (27, 30, False), (30, 35, True),
               (36, 41, True), (42, 47, True), (48, 59, True), (60, 67, True))

MESH_COLOR = (90, 200, 255)
LM68_COLOR = (255, 80, 80)


def _mesh_edges() -> np.ndarray | None:
    try:
        from avs.face import deps

        deps.face_mesh_module()
        from mediapipe.python.solutions.face_mesh_connections import FACEMESH_TESSELATION
    except Exception:  # the extra is absent: draw points only
        return None
    return np.array(sorted(FACEMESH_TESSELATION), dtype=np.int32)


def draw_landmarks(frame: np.ndarray, lm68: np.ndarray | None = None, lm478: np.ndarray | None = None,
                   thickness: int = 1) -> np.ndarray:
    """A copy of ``frame`` with the MediaPipe mesh (thin lines) and the 68-point curves drawn on it.

    Args:
        frame: (H, W, 3) uint8 RGB.
        lm68: (68, 2) pixels or None; lm478: (478, 2+) pixels or None (NaN = not drawn).
        thickness: line width of the 68-point curves, pixels.

    Returns:
        (H, W, 3) uint8 RGB.
    """
    import cv2

    out = np.ascontiguousarray(frame).copy()
    if lm478 is not None and np.isfinite(lm478).all():
        pts = np.round(np.asarray(lm478)[:, :2] * 4).astype(np.int32)  # 2 fractional bits
        edges = _mesh_edges()
        if edges is not None:
            cv2.polylines(out, [p for p in pts[edges]], False, MESH_COLOR, 1, cv2.LINE_AA, shift=2)
        else:
            for p in pts:
                cv2.circle(out, tuple(int(v) for v in p), 4, MESH_COLOR, -1, cv2.LINE_AA, shift=2)
    if lm68 is not None and np.isfinite(lm68).all():
        pts = np.round(np.asarray(lm68) * 4).astype(np.int32)
        for a, b, closed in LM68_CURVES:
            cv2.polylines(out, [pts[a:b + 1]], closed, LM68_COLOR, thickness, cv2.LINE_AA, shift=2)
    return out


class FacePreviewRenderer:
    """Preview frames for ``--videos`` outputs: generated frames with their tracked landmarks, beside
    the real ones.

    ``render(real, fake, lm68_real, lm68_fake)`` yields (H, 2W + gap, 3) uint8 frames: real | generated.
    Landmark arrays are optional ((T, 68, 2) pixels, NaN rows = none).
    """

    def __init__(self, gap: int = 4, draw: bool = True) -> None:
        self.gap = gap
        self.draw = draw

    def render(self, real: Iterable[np.ndarray], fake: Iterable[np.ndarray], lm68_real: np.ndarray | None = None,
               lm68_fake: np.ndarray | None = None) -> Iterator[np.ndarray]:
        from avs.render.skeleton import side_by_side

        def overlay(frames: Iterable[np.ndarray], lms: np.ndarray | None) -> Iterator[np.ndarray]:
            for i, f in enumerate(frames):
                yield draw_landmarks(f, lms[i]) if (self.draw and lms is not None and i < len(lms)) else f

        yield from side_by_side(overlay(real, lm68_real), overlay(fake, lm68_fake), gap=self.gap)
