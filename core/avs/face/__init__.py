"""Face data from real video: tracking, an open face model, aligned crops, identity embeddings.

Optional extra ``avs-toolkit[face]`` (MediaPipe face mesh, dlib). Importing :mod:`avs.face` is
cheap: the heavy libraries load on first use of a function that needs them, so ``avs plugins``
never imports torch, MediaPipe or dlib.

Public API (see ``docs/face.md``)::

    open_face_data(root) -> FaceData           # a folder written by `avs data prepare face`
    track_image(image) -> FaceTrack | None     # one photo, largest face
    face_embedding(image, lm68 or box) -> (128,) float32
    aligned_crop(image, box, size) -> (crop, affine)
    OpenFaceModel.load_default()
    FaceImageClips, face_image_metrics, FACE_IMAGE_SUITE   # the face-image task
"""

from __future__ import annotations

from avs._exports import lazy_exports

_EXPORTS = {
    "FaceData": "avs.face.data",
    "FaceVideo": "avs.face.data",
    "open_face_data": "avs.face.data",
    "FaceTrack": "avs.face.tracking",
    "FaceTracker": "avs.face.tracking",
    "track_image": "avs.face.tracking",
    "face_embedding": "avs.face.embedding",
    "aligned_crop": "avs.face.crop",
    "square_box": "avs.face.crop",
    "box_from_landmarks": "avs.face.crop",
    "smooth_landmarks": "avs.face.smoothing",
    "landmark_jitter": "avs.face.smoothing",
    "OpenFaceModel": "avs.face.model",
    "build_face_model": "avs.face.model",
    "prepare_face_data": "avs.face.prepare",
    "FaceImageClips": "avs.face.evaluation",
    "face_image_metrics": "avs.face.evaluation",
    "face_image_baselines": "avs.face.evaluation",
    "face_image_baseline_rows": "avs.face.evaluation",
    "real_clips": "avs.face.evaluation",
    "FACE_IMAGE_DIRECTIONS": "avs.face.evaluation",
    "FACE_IMAGE_SUITE": "avs.face.evaluation",
    "FaceImageSuite": "avs.face.evaluation",
    "hs_score": "avs.face.evaluation",
    "draw_landmarks": "avs.face.render",
    "FacePreviewRenderer": "avs.face.render",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
