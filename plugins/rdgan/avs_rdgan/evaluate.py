"""Evaluation of RD-GAN on held-out clips, and the two baselines that need no learning.

Protocol (ours; the paper scores CK+ sequences): for every test segment, the first valid frame is the
photo and the next ``eval.max_frames`` valid frames' landmarks are the targets; the model animates
recursively (:func:`avs_rdgan.inference.recursive_frames`) and each generated crop is compared with the
real crop of that frame (both in the target's own landmark box, 128×128):

- ``ssim``: RD-GAN's SSIM (grayscale, 11×11 Gaussian σ 1.5, K1 0.01, K2 0.03, L 255; ``avs.metrics``),
- ``psnr`` in dB,
- ``identity_cos``: cosine of the 128-d face embeddings (``avs.face.face_embedding``) of the generated
  frame and of the photo (only with the face extra installed),
- ``landmark_nme``: landmarks tracked on the generated frame (``avs.face.track_image``, the crop placed
  in a 256×256 black canvas) against the target landmarks, mean point distance ÷ the outer-eye-corner
  distance; ``landmark_found``: share of frames where a face was found (face extra only).

Baselines, with the same metrics: ``photo`` (the first frame, unchanged) and ``warp`` (the first frame
warped piecewise-affinely to the target landmarks, scikit-image ``PiecewiseAffineTransform``).

The audio→landmark model is scored on the same segments: ``a2l_l1_px`` (mean |predicted − true|
displacement, 128-px crop pixels; the zero-displacement baseline as ``a2l_l1_px_static``) and
``a2l_mouth_corr`` (Pearson correlation of the predicted and true inner-lip opening, points 62↔66).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from avs.metrics.image import psnr, ssim
from avs_rdgan.config import IMAGE_SIZE
from avs_rdgan.data import FaceClip, PairDataset

METRIC_DIRECTIONS: dict[str, bool] = {}
for _suffix in ("", "_photo", "_warp"):
    METRIC_DIRECTIONS.update({f"ssim{_suffix}": True, f"psnr{_suffix}": True, f"identity_cos{_suffix}": True,
                              f"landmark_nme{_suffix}": False, f"landmark_found{_suffix}": True})
METRIC_DIRECTIONS.update({"a2l_l1_px": False, "a2l_l1_px_static": False, "a2l_mouth_corr": True})


def warp_baseline(source: np.ndarray, source_lm: np.ndarray, target_lm: np.ndarray) -> np.ndarray:
    """The source crop warped piecewise-affinely so its landmarks land on the target's.

    Args:
        source: (128, 128, 3) uint8; source_lm, target_lm: (68, 2) crop pixels.

    Returns:
        (128, 128, 3) uint8.
    """
    from skimage.transform import PiecewiseAffineTransform, warp

    s = IMAGE_SIZE - 1
    border = np.array([[0, 0], [s / 2, 0], [s, 0], [s, s / 2], [s, s], [s / 2, s], [0, s], [0, s / 2]], np.float64)
    # warp() takes the map from output (target) coordinates to input (source) coordinates.
    src, dst = np.concatenate([target_lm, border]), np.concatenate([source_lm, border])
    if hasattr(PiecewiseAffineTransform, "from_estimate"):  # scikit-image >= 0.26
        tform = PiecewiseAffineTransform.from_estimate(src, dst)
    else:
        tform = PiecewiseAffineTransform()
        tform.estimate(src, dst)
    out = warp(source, tform, order=1, mode="constant", cval=0.0, preserve_range=True)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def segments(dataset: PairDataset, max_frames: int, max_segments: int = 0) -> list[tuple[FaceClip, int, np.ndarray]]:
    """``(clip, first frame, later frames)`` of each test clip: the first valid frame and the next
    ``max_frames`` valid ones."""
    out = []
    for clip in dataset.clips:
        v = np.flatnonzero(clip.valid)
        if len(v) >= 2:
            out.append((clip, int(v[0]), v[1:1 + max_frames]))
    return out[:max_segments] if max_segments > 0 else out


def _face_tools() -> Any:
    try:
        import avs.face as face
    except ImportError:
        return None
    return face if hasattr(face, "track_image") and hasattr(face, "face_embedding") else None


def _identity(face: Any, image: np.ndarray, lm: np.ndarray) -> np.ndarray | None:
    try:
        emb = np.asarray(face.face_embedding(image, lm), np.float64)
    except Exception:  # an embedding that cannot be computed counts as missing
        return None
    n = np.linalg.norm(emb)
    return emb / n if n > 0 else None


def _tracked_nme(face: Any, image: np.ndarray, target: np.ndarray) -> float | None:
    pad = IMAGE_SIZE // 2
    canvas = np.zeros((2 * IMAGE_SIZE, 2 * IMAGE_SIZE, 3), np.uint8)
    canvas[pad:pad + IMAGE_SIZE, pad:pad + IMAGE_SIZE] = image
    track = face.track_image(canvas)
    if track is None:
        return None
    found = np.asarray(track.lm68, np.float64) - pad
    iod = np.linalg.norm(target[36] - target[45])
    return float(np.linalg.norm(found - target, axis=1).mean() / max(iod, 1e-6))


def score_frames(fake: np.ndarray, real: np.ndarray, target_lm: np.ndarray, photo: np.ndarray,
                 photo_lm: np.ndarray, face: Any = None) -> dict[str, list[float]]:
    """Per-frame metrics of generated crops against real crops (lists, averaged by the caller)."""
    out: dict[str, list[float]] = {"ssim": [], "psnr": [], "identity_cos": [], "landmark_nme": [],
                                   "landmark_found": []}
    ref = _identity(face, photo, photo_lm) if face is not None else None
    for f, r, lm in zip(fake, real, target_lm, strict=True):
        out["ssim"].append(ssim(f, r))
        p = psnr(f, r)
        out["psnr"].append(p if np.isfinite(p) else 100.0)
        if face is not None:
            emb = _identity(face, f, lm)
            if ref is not None and emb is not None:
                out["identity_cos"].append(float(emb @ ref))
            nme = _tracked_nme(face, f, lm)
            out["landmark_found"].append(float(nme is not None))
            if nme is not None:
                out["landmark_nme"].append(nme)
    return out


def _mean(values: dict[str, list[float]], suffix: str) -> dict[str, float]:
    return {k + suffix: float(np.mean(v)) for k, v in values.items() if v}


def evaluate(G: Any, a2l: Any, dataset: PairDataset, cfg: Any, device: Any = "cpu") -> dict[str, float]:
    """Metrics of the model and both baselines on a test split (module docstring).

    Returns:
        ``{metric: value}``; keys in :data:`METRIC_DIRECTIONS`.
    """
    from avs_rdgan.audio2landmark import predict_displacements
    from avs_rdgan.inference import recursive_frames

    face = _face_tools()
    acc: dict[str, dict[str, list[float]]] = {"": {}, "_photo": {}, "_warp": {}}
    a2l_err, a2l_static, mouth_pred, mouth_true = [], [], [], []
    for clip, first, later in segments(dataset, int(cfg.eval.max_frames), int(cfg.eval.max_segments)):
        photo, photo_lm = clip.crops[first], clip.lm[first]
        targets, real = clip.lm[later], clip.crops[later]
        fakes = {
            "": recursive_frames(G, photo, targets, photo, device),
            "_photo": np.repeat(photo[None], len(later), 0),
            "_warp": np.stack([warp_baseline(photo, photo_lm, lm) for lm in targets]),
        }
        for suffix, fake in fakes.items():
            for k, v in score_frames(fake, real, targets, photo, photo_lm, face).items():
                acc[suffix].setdefault(k, []).extend(v)
        if clip.audio is not None and clip.valid.all():
            disp = predict_displacements(a2l, clip.audio, clip.num_frames, 16000, int(cfg.infer.smooth))
            a2l_err.append(float(np.abs(disp - clip.disp).mean() * IMAGE_SIZE))
            a2l_static.append(float(np.abs(clip.disp).mean() * IMAGE_SIZE))
            mouth_pred.append(disp[:, 66, 1] - disp[:, 62, 1])
            mouth_true.append(clip.disp[:, 66, 1] - clip.disp[:, 62, 1])
    out: dict[str, float] = {}
    for suffix, values in acc.items():
        out.update(_mean(values, suffix))
    if a2l_err:
        out["a2l_l1_px"] = float(np.mean(a2l_err))
        out["a2l_l1_px_static"] = float(np.mean(a2l_static))
        p, t = np.concatenate(mouth_pred), np.concatenate(mouth_true)
        if p.std() > 0 and t.std() > 0:
            out["a2l_mouth_corr"] = float(np.corrcoef(p, t)[0, 1])
    return out


def render_examples(G: Any, dataset: PairDataset, cfg: Any, n: int, out_dir: Path, device: Any = "cpu") -> list[Path]:
    """Videos of ``n`` test segments: real | generated | warp baseline | target edge map, 25 fps, with sound.

    Returns:
        The written ``.mp4`` paths.
    """
    from avs.video import write_video
    from avs_rdgan.edges import edge_map
    from avs_rdgan.inference import recursive_frames

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for k, (clip, first, _) in enumerate(segments(dataset, 10**6)[:n]):
        v = np.flatnonzero(clip.valid)
        v = v[v > first]
        fake = recursive_frames(G, clip.crops[first], clip.lm[v], clip.crops[first], device)
        rows = [np.concatenate([clip.crops[j], f, warp_baseline(clip.crops[first], clip.lm[first], clip.lm[j]),
                                edge_map(clip.lm[j])], 1) for j, f in zip(v, fake, strict=True)]
        audio = None
        if clip.audio is not None:
            audio = np.concatenate([clip.audio[j * 640:(j + 1) * 640] for j in v])
        path = out_dir / f"rdgan_example_{k:02d}.mp4"
        write_video(path, rows, 25.0, len(rows), audio, 16000 if audio is not None else None)
        paths.append(path)
    return paths
