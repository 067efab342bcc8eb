"""Per-frame face tracking: MediaPipe face mesh (478 points with irises) + dlib's 68-point layout.

MediaPipe's legacy ``solutions.face_mesh`` (Kartynnik et al. 2019, "Real-time Facial Surface
Geometry from Monocular Video on Mobile GPUs"; attention mesh with ``refine_landmarks=True``
adds the 10 iris points) gives the dense mesh; dlib's ensemble-of-regression-trees predictor
(Kazemi & Sullivan 2014) trained on iBUG 300-W gives the 68-point layout, started from a box
derived from the mesh (so dlib's own detector is not needed per frame). When several faces are
found, the largest (mesh bounding-box area) is kept and the count is reported.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from avs.errors import AvsError
from avs.face import deps

MAX_FACES = 3
"""Faces MediaPipe looks for per frame (the largest is kept; more are only counted)."""

# dlib's HOG detector box relative to the mesh's bounding box (x0, y0, x1, y1 as fractions of the
# mesh box width/height): the mean over 11 real frames (astronaut photo, two frames of each sample
# video) of dlib's own detection; per-frame spread about 0.07.
_DLIB_BOX = (-0.04, 0.04, 1.03, 0.94)


@dataclass
class FaceTrack:
    """One face in one image.

    Attributes:
        lm68: (68, 2) float32 dlib/iBUG 68-point landmarks, pixels (x, y).
        lm478: (478, 3) float32 MediaPipe face mesh; x, y in pixels, z in the same pixel scale
            (MediaPipe's normalised depth × image width; smaller = nearer the camera).
        box: (4,) float32 bounding box x0, y0, x1, y1 of the mesh's x, y, pixels.
        num_faces: how many faces were found in the image (the largest is this one).
    """

    lm68: np.ndarray
    lm478: np.ndarray
    box: np.ndarray
    num_faces: int


def check_image(image: np.ndarray) -> np.ndarray:
    """Return ``image`` as a C-contiguous (H, W, 3) uint8 RGB array; AvsError otherwise."""
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise AvsError(f"expected an (H, W, 3) uint8 RGB image, got {image.shape} {image.dtype}")
    if min(image.shape[:2]) < 16:
        raise AvsError(f"image of {image.shape[1]}x{image.shape[0]} pixels is too small for face tracking")
    return np.ascontiguousarray(image)


def mesh_box(lm478: np.ndarray) -> np.ndarray:
    """(4,) float32 bounding box x0, y0, x1, y1 of the mesh's x, y (pixels)."""
    xy = lm478[:, :2]
    return np.concatenate([xy.min(0), xy.max(0)]).astype(np.float32)


def dlib_rect_from_mesh(lm478: np.ndarray) -> tuple[int, int, int, int]:
    """The box dlib's 68-point predictor starts from (left, top, right, bottom), derived from the mesh."""
    x0, y0, x1, y1 = mesh_box(lm478)
    w, h = x1 - x0, y1 - y0
    fx0, fy0, fx1, fy1 = _DLIB_BOX
    return (int(round(x0 + fx0 * w)), int(round(y0 + fy0 * h)), int(round(x0 + fx1 * w)), int(round(y0 + fy1 * h)))


def landmarks_68(image: np.ndarray, rect: tuple[int, int, int, int]) -> np.ndarray:
    """dlib's 68 landmarks (68, 2) float32 in pixels for the face in ``rect`` (left, top, right, bottom)."""
    dlib = deps.dlib_module()
    shape = deps.shape_predictor_68()(image, dlib.rectangle(*rect))
    return np.array([[p.x, p.y] for p in shape.parts()], dtype=np.float32)


@contextlib.contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """Silence native (C++) writes to stderr: MediaPipe's TFLite/absl start-up notices, which no
    Python setting turns off. Python exceptions are unaffected."""
    import sys

    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # no real stderr (e.g. captured): nothing to hide
        yield
        return
    sys.stderr.flush()
    saved = os.dup(fd)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
        yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)
        os.close(devnull)


class FaceTracker:
    """Track the largest face through the frames of one video (or photos with ``static=True``).

    Use as a context manager, or call :meth:`close`. Each call takes one (H, W, 3) uint8 RGB frame
    and returns a :class:`FaceTrack` or None when no face is found. MediaPipe runs in video mode
    (tracks the face from the previous frame) unless ``static``.
    """

    def __init__(self, static: bool = False, min_confidence: float = 0.5) -> None:
        module = deps.face_mesh_module()
        deps.shape_predictor_68()  # load now, not inside the first frame
        # MediaPipe starts its graph in background threads that print start-up notices until the
        # first frames are through: keep native stderr quiet until then
        self._quiet: contextlib.ExitStack | None = contextlib.ExitStack()
        self._quiet.enter_context(quiet_native_stderr())
        try:
            self._mesh = module.FaceMesh(
                static_image_mode=static, max_num_faces=MAX_FACES, refine_landmarks=True,
                min_detection_confidence=min_confidence, min_tracking_confidence=min_confidence)
        except BaseException:
            self._unquiet()
            raise
        self._calls = 0

    def _unquiet(self) -> None:
        if self._quiet is not None:
            self._quiet.close()
            self._quiet = None

    def __call__(self, image: np.ndarray) -> FaceTrack | None:
        image = check_image(image)
        h, w = image.shape[:2]
        try:
            result = self._mesh.process(image)
        except BaseException:
            self._unquiet()
            raise
        self._calls += 1
        if self._calls >= 3:
            self._unquiet()
        faces = result.multi_face_landmarks or []
        if not faces:
            return None
        meshes = []
        for face in faces:
            pts = np.array([[p.x * w, p.y * h, p.z * w] for p in face.landmark], dtype=np.float32)
            meshes.append(pts)
        areas = [float(np.prod(mesh_box(m)[2:] - mesh_box(m)[:2])) for m in meshes]
        lm478 = meshes[int(np.argmax(areas))]
        lm68 = landmarks_68(image, dlib_rect_from_mesh(lm478))
        return FaceTrack(lm68=lm68, lm478=lm478, box=mesh_box(lm478), num_faces=len(meshes))

    def close(self) -> None:
        try:
            self._mesh.close()
        finally:
            self._unquiet()

    def __enter__(self) -> FaceTracker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def track_image(image: np.ndarray) -> FaceTrack | None:
    """Landmarks of the largest face in one photo.

    Args:
        image: (H, W, 3) uint8 RGB.

    Returns:
        A :class:`FaceTrack` (``lm68`` (68, 2), ``lm478`` (478, 3), ``box`` (4,), ``num_faces``),
        or None when no face is found.

    Raises:
        AvsError: not an (H, W, 3) uint8 image; the face extra is not installed.
    """
    with FaceTracker(static=True) as tracker:
        return tracker(image)
