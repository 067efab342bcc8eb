"""Identity feature: dlib's 128-d face-recognition embedding (ResNet-34-like network trained with a
metric loss; ``dlib_face_recognition_resnet_model_v1.dat`` from ``face-recognition-models``).

Two photos of one person give embeddings at Euclidean distance < 0.6 (dlib's threshold) — cosine
similarity above about 0.82 after L2 normalisation.
"""

from __future__ import annotations

import numpy as np

from avs.errors import AvsError
from avs.face import deps
from avs.face.tracking import check_image, dlib_rect_from_mesh, landmarks_68


def face_embedding(image: np.ndarray, where: np.ndarray) -> np.ndarray:
    """The L2-normalised 128-d dlib embedding of one face.

    Args:
        image: (H, W, 3) uint8 RGB.
        where: the face, as its (68, 2) dlib landmarks (pixels), its (478, 3) MediaPipe mesh, or a
            (4,) box x0, y0, x1, y1 in pixels (dlib detector convention: cheeks, brows to chin).

    Returns:
        (128,) float32 with unit L2 norm.

    Raises:
        AvsError: bad image, a ``where`` of another shape or with NaN, the face extra missing.
    """
    image = check_image(image)
    where = np.asarray(where, np.float32)
    if not np.isfinite(where).all():
        raise AvsError("face_embedding: landmarks or box contain NaN (a frame without a face?)")
    dlib = deps.dlib_module()
    if where.shape == (68, 2):
        lm68 = where
    elif where.shape == (478, 3):
        lm68 = landmarks_68(image, dlib_rect_from_mesh(where))
    elif where.shape == (4,):
        lm68 = landmarks_68(image, tuple(int(round(v)) for v in where))
    else:
        raise AvsError(f"face_embedding takes (68, 2) landmarks, a (478, 3) mesh or a (4,) box, got {where.shape}")
    x0, y0 = np.floor(lm68.min(0)).astype(int)
    x1, y1 = np.ceil(lm68.max(0)).astype(int)
    shape = dlib.full_object_detection(dlib.rectangle(int(x0), int(y0), int(x1), int(y1)),
                                       [dlib.point(int(round(x)), int(round(y))) for x, y in lm68])
    vec = np.asarray(deps.face_recognition_net().compute_face_descriptor(image, shape), np.float32)
    return vec / max(float(np.linalg.norm(vec)), 1e-12)
