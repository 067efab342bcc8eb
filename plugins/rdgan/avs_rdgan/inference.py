"""Recursive animation of one photo: frame t's output seeds frame t + 1.

Source: RD-GAN (Guo, Yan, Liu 2021, Sec. 2.4): for a target landmark sequence, the seed GAN turns the
previous frame and the next edge map into a seed, the feature-preserving GAN turns the seed and the
original photo into the frame; the first step starts from the photo. Output is 25 fps with exactly
``round(duration · 25)`` frames for the audio.

Targets are landmarks in the photo's crop frame (128×128, :func:`avs_rdgan.crop.crop_face`); each frame
is generated in its own landmark box's crop (as in training) and mapped back for the video.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from avs.api import AvsError
from avs_rdgan.config import FPS, IMAGE_SIZE
from avs_rdgan.crop import apply_affine, box_affine, crop_face, from_unit, invert_affine, landmark_box, to_unit
from avs_rdgan.edges import edge_map

MAX_PHOTO_SIDE = 1024
"""Photos larger than this (longest side, pixels) are downscaled first (the face is 128 px anyway)."""


@torch.no_grad()
def recursive_frames(G: Any, first: np.ndarray, target_lm: np.ndarray, original: np.ndarray | None = None,
                     device: torch.device | str = "cpu") -> np.ndarray:
    """Animate recursively.

    Args:
        G: :class:`~avs_rdgan.model.RDGenerator` (put in eval mode here).
        first: (128, 128, 3) uint8 crop the recursion starts from.
        target_lm: (T, 68, 2) landmarks, each frame in its own box's crop pixels.
        original: (128, 128, 3) uint8 identity face for the fine GAN (default ``first``).

    Returns:
        (T, 128, 128, 3) uint8 frames, frame t in target t's crop frame.
    """
    G.eval()
    photo = torch.from_numpy(to_unit(first if original is None else original))[None].to(device)
    prev = torch.from_numpy(to_unit(first))[None].to(device)
    out = np.zeros((len(target_lm), IMAGE_SIZE, IMAGE_SIZE, 3), np.uint8)
    for t, lm in enumerate(np.asarray(target_lm)):
        edges = torch.from_numpy(to_unit(edge_map(lm)))[None].to(device)
        _, prev = G(prev, edges, photo)
        out[t] = from_unit(prev[0].float().cpu().numpy())
    return out


def read_landmarks_file(path: Path) -> np.ndarray:
    """A ``--landmarks`` file: npz with a (T, 68, 2) array of pixels at 25 fps (key ``landmarks``, ``lm68``
    or ``keypoints``, or its only array).

    Raises:
        AvsError: unreadable, no such array, wrong shape, fewer than one frame, or non-finite values.
    """
    from avs.api import npz_array

    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            keys = [k for k in ("landmarks", "lm68", "keypoints") if k in npz.files]
            key = keys[0] if keys else (npz.files[0] if len(npz.files) == 1 else None)
            if key is None:
                raise AvsError(f"{path}: no 'landmarks' array (found {', '.join(npz.files) or 'nothing'})")
            lm = np.asarray(npz_array(path, key, npz), np.float32)
    except AvsError:
        raise
    except Exception as exc:  # zipfile/numpy raise many types for a bad file
        raise AvsError(f"cannot read landmarks {path}: {exc}") from None
    if lm.ndim != 3 or lm.shape[1:] != (68, 2) or lm.shape[0] < 1:
        raise AvsError(f"{path}: landmarks must have shape (T, 68, 2), got {lm.shape}")
    if not np.isfinite(lm).all():
        raise AvsError(f"{path}: landmarks contain NaN or infinite values")
    return lm


def fit_frames(seq: np.ndarray, num_frames: int) -> np.ndarray:
    """Cut a sequence to ``num_frames``, or hold its last frame to reach it."""
    if len(seq) >= num_frames:
        return seq[:num_frames]
    return np.concatenate([seq, np.repeat(seq[-1:], num_frames - len(seq), 0)])


def targets_from_sequence(photo_lm: np.ndarray, seq: np.ndarray, mode: str = "relative") -> np.ndarray:
    """Target landmarks in the photo's crop frame from a driving sequence of any face.

    Args:
        photo_lm: (68, 2) the photo's landmarks in its crop frame.
        seq: (T, 68, 2) driving landmarks, pixels of any frame.
        mode: ``relative`` (displacement from the sequence's first frame in face-box units, added to the
            photo) or ``absolute`` (the driving landmarks in their own box, mapped onto the photo's box).

    Returns:
        (T, 68, 2) float32 in the photo's crop frame.

    Raises:
        AvsError: an unknown mode.
    """
    from avs_rdgan.crop import normalise_landmarks

    norm = normalise_landmarks(seq, IMAGE_SIZE)
    if mode == "relative":
        return (photo_lm[None] + (norm - norm[:1])).astype(np.float32)
    if mode == "absolute":
        return norm.astype(np.float32)
    raise AvsError(f"infer.landmarks_mode must be 'relative' or 'absolute', got {mode!r}")


def own_box(target_lm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each target in its own box: (T, 68, 2) crop-frame landmarks → own-crop landmarks, (T, 2, 3) affines
    from the crop frame to each own crop."""
    affines = np.stack([box_affine(landmark_box(lm), IMAGE_SIZE) for lm in target_lm])
    return np.stack([apply_affine(a, lm) for a, lm in zip(affines, target_lm, strict=True)]), affines


def face_mask(lm: np.ndarray, size: int, feather: float) -> np.ndarray:
    """(size, size) float32 soft mask of the landmarks' convex hull (1 inside), blurred by ``feather`` px."""
    import cv2

    mask = np.zeros((size, size), np.float32)
    hull = cv2.convexHull(np.rint(lm).astype(np.int32))
    cv2.fillConvexPoly(mask, hull, 1.0)
    k = 2 * int(round(2 * feather)) + 1
    return cv2.GaussianBlur(mask, (k, k), feather)


def paste(photo: np.ndarray, crop: np.ndarray, own_lm: np.ndarray, full_to_crop: np.ndarray) -> np.ndarray:
    """Blend one generated crop into the photo over the face's convex hull (feathered 3 px).

    Args:
        photo: (H, W, 3) uint8.
        crop: (128, 128, 3) uint8 generated crop.
        own_lm: (68, 2) its landmarks (crop pixels).
        full_to_crop: (2, 3) affine from photo pixels to the crop.

    Returns:
        (H, W, 3) uint8.
    """
    import cv2

    h, w = photo.shape[:2]
    inv = invert_affine(full_to_crop)
    face = cv2.warpAffine(crop, inv, (w, h), flags=cv2.INTER_CUBIC).astype(np.float32)
    mask = cv2.warpAffine(face_mask(own_lm, IMAGE_SIZE, 3.0), inv, (w, h), flags=cv2.INTER_LINEAR)[..., None]
    return np.clip(mask * face + (1 - mask) * photo.astype(np.float32), 0, 255).astype(np.uint8)


def compose(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """2×3 affines: ``a`` after ``b``."""
    m = np.vstack([a, [0, 0, 1]]) @ np.vstack([b, [0, 0, 1]])
    return m[:2]


def load_photo_face(path: Path, min_face: int = 64) -> tuple[np.ndarray, np.ndarray, str]:
    """Read a photo and find its face (the largest) with ``avs.face``.

    Args:
        path: any image file (greyscale, RGBA, 16-bit are converted to RGB uint8).
        min_face: smallest accepted face box side in pixels.

    Returns:
        ``image`` (H, W, 3) uint8 RGB (downscaled to at most 1024 px), ``lm68`` (68, 2) pixels, and a note
        ("" or one sentence, e.g. that several faces were found).

    Raises:
        AvsError: unreadable photo, no face, a face smaller than ``min_face``, or no face extra installed.
    """
    import cv2

    from avs_rdgan.data import load_image_rgb

    path = Path(path)
    if not path.is_file():
        raise AvsError(f"photo not found: {path}")
    image = load_image_rgb(path)
    scale = MAX_PHOTO_SIDE / max(image.shape[:2])
    if scale < 1:
        image = cv2.resize(image, (round(image.shape[1] * scale), round(image.shape[0] * scale)),
                           interpolation=cv2.INTER_AREA)
    try:
        from avs.face import track_image
    except ImportError:
        raise AvsError("rdgan needs the face extra to find the photo's landmarks: "
                       "pip install 'avs-toolkit[face]'") from None
    track = track_image(image)
    if track is None:
        raise AvsError(f"no face found in {path}")
    lm68 = np.asarray(track.lm68, np.float32)
    side = float(np.ptp(lm68, axis=0).max())
    if side < min_face:
        raise AvsError(f"the face in {path} is too small ({side:.0f} px across its landmarks; "
                       f"at least {min_face} px needed)")
    n = int(getattr(track, "num_faces", 1))
    note = f"{n} faces found in {path.name}; animating the largest" if n > 1 else ""
    return image, lm68, note


def drive_landmarks(path: Path) -> np.ndarray:
    """68-point landmarks of a driving video at 25 fps (``avs.face.track_image`` on each frame; frames
    without a face hold the previous landmarks).

    Raises:
        AvsError: unreadable video, no face in any frame, or no face extra installed.
    """
    import imageio_ffmpeg

    try:
        from avs.face import track_image
    except ImportError:
        raise AvsError("rdgan needs the face extra to track a driving video: pip install 'avs-toolkit[face]'") from None
    path = Path(path)
    if not path.is_file():
        raise AvsError(f"driving video not found: {path}")
    try:
        reader = imageio_ffmpeg.read_frames(str(path), pix_fmt="rgb24", output_params=["-r", str(FPS)])
        meta = next(reader)
        w, h = meta["size"]
        lms: list[np.ndarray | None] = []
        for raw in reader:
            track = track_image(np.frombuffer(raw, np.uint8).reshape(h, w, 3))
            lms.append(None if track is None else np.asarray(track.lm68, np.float32))
        reader.close()
    except (OSError, RuntimeError, StopIteration) as exc:
        raise AvsError(f"cannot read driving video {path}: {exc}") from None
    found = [lm for lm in lms if lm is not None]
    if not found:
        raise AvsError(f"no face found in any frame of {path}")
    last = found[0]
    seq = []
    for lm in lms:
        last = lm if lm is not None else last
        seq.append(last)
    return np.stack(seq)


def predict_crops(G: Any, a2l: Any, audio: np.ndarray, inputs: Mapping[str, Path], cfg: Any,
                  device: torch.device | str = "cpu") -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, str]:
    """Generated face crops of a talking face from speech and a photo (all inputs checked first).

    Args:
        G: the generator pair; a2l: the audio→landmark model.
        audio: (N,) float32 mono at 16 kHz.
        inputs: ``face`` (photo, required); optional ``landmarks`` ((T, 68, 2) npz pixels at 25 fps) or
            ``drive`` (a driving video); without them the landmarks come from the audio.
        cfg: the method config (``cfg.infer``, ``cfg.data.min_face``).

    Returns:
        ``crops`` (T, 128, 128, 3) uint8 with T = round(duration · 25), ``own_lm`` (T, 68, 2) their target
        landmarks (crop pixels), ``full_to_crop`` (T, 2, 3) affines from photo pixels to each crop, the
        photo (H, W, 3) uint8, and a note (a sentence or "").

    Raises:
        AvsError: no ``face``, both ``landmarks`` and ``drive``, bad photo, landmarks or video, audio shorter
            than one frame.
    """
    from avs.api import frames_for_duration
    from avs_rdgan.audio2landmark import predict_displacements

    if not inputs.get("face"):
        raise AvsError("rdgan needs a face photo: --face PHOTO")
    if inputs.get("landmarks") and inputs.get("drive"):
        raise AvsError("give either --landmarks or --drive, not both")
    num_frames = frames_for_duration(len(audio) / 16000.0, FPS)
    if num_frames < 1:
        raise AvsError("the audio is shorter than one video frame (40 ms)")
    seq = read_landmarks_file(Path(inputs["landmarks"])) if inputs.get("landmarks") else None
    image, lm68, note = load_photo_face(Path(inputs["face"]), int(cfg.data.min_face))
    if seq is None and inputs.get("drive"):
        seq = drive_landmarks(Path(inputs["drive"]))
    crop, photo_lm, photo_affine = crop_face(image, lm68, IMAGE_SIZE)
    if seq is not None:
        target = targets_from_sequence(photo_lm, fit_frames(seq, num_frames), str(cfg.infer.landmarks_mode))
    else:
        disp = predict_displacements(a2l, audio, num_frames, 16000, int(cfg.infer.smooth))
        target = photo_lm[None] + float(cfg.infer.a2l_gain) * disp * IMAGE_SIZE
    own_lm, affines = own_box(target)
    crops = recursive_frames(G, crop, own_lm, crop, device)
    full_to_crop = np.stack([compose(a, photo_affine) for a in affines])
    return crops, own_lm, full_to_crop, image, note
