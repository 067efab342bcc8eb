"""The face tools phadtf borrows from ``avs.face`` (the ``avs-toolkit[face]`` extra), behind two small hooks."""

from __future__ import annotations

from typing import Any

import numpy as np

from avs.api import AvsError

_MODEL: Any = None


def face_model() -> Any:
    """The open face model (``avs.face.OpenFaceModel.load_default()``), loaded once.

    Raises:
        AvsError: the face extra is not installed.
    """
    global _MODEL
    if _MODEL is None:
        try:
            from avs.face import OpenFaceModel
        except ImportError as exc:
            raise AvsError(f"phadtf needs the face extra: pip install 'avs-toolkit[face]' ({exc})") from None
        _MODEL = OpenFaceModel.load_default()
    return _MODEL


def embedding(image: np.ndarray, lm68: np.ndarray) -> np.ndarray:
    """(128,) L2-normalised dlib face descriptor of the face at ``lm68`` (68, 2) pixels in ``image``."""
    try:
        from avs.face import face_embedding
    except ImportError as exc:
        raise AvsError(f"phadtf needs the face extra: pip install 'avs-toolkit[face]' ({exc})") from None
    return face_embedding(image, np.asarray(lm68, np.float32))
