"""Evaluation of RD-GAN on held-out clips, through the face-image suite, against two baselines.

Protocol (ours; the paper scores CK+ sequences): for every test segment the first valid frame is the
photo and the next ``eval.max_frames`` valid frames are the targets. Each system makes crops of those
frames (128×128, each in its target's own landmark box, as the real crops are):

- (no suffix) RD-GAN driven by the real landmarks, recursively (:func:`avs_rdgan.inference.recursive_frames`);
- ``_audio``: RD-GAN driven by the audio→landmark model's landmarks (photo landmarks + predicted
  displacements: what ``avs predict`` does);
- ``_photo``: the first frame unchanged;
- ``_warp``: the first frame warped piecewise-affinely to the real landmarks (scikit-image
  ``PiecewiseAffineTransform``).

Each is scored by ``avs.face.face_image_metrics`` against the real crops: ``ssim`` (RD-GAN's SSIM:
grayscale, 11×11 Gaussian σ 1.5, K1 0.01, K2 0.03, L 255), ``psnr``, ``lmd`` (landmark distance of the
tracked generated face to the real one), ``identity_cos`` (128-d embedding cosine, generated vs real
clip), ``lip_sync_corr``, ``pose_error_deg``, ``hs``, ``face_found``; plus ``identity_to_photo`` (cosine of
each generated frame's embedding to the source photo's). The audio→landmark model alone, over every valid
frame of each test segment (prediction and real displacements both centred over the segment):
``a2l_l1_px`` (mean |predicted − real| displacement in 128-px crop pixels; ``a2l_l1_px_static`` for zero
displacement: no motion), ``a2l_mouth_corr`` (Pearson correlation of predicted and real inner-lip opening
62↔66), ``a2l_open_rms_corr`` (predicted opening vs the audio's RMS loudness per 40-ms frame) and
``a2l_open_rms_corr_real`` (the real clip's opening vs the same loudness); correlations are averaged over
segments.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from avs_rdgan.config import IMAGE_SIZE
from avs_rdgan.data import FaceClip, PairDataset

SYSTEMS = ("", "_audio", "_photo", "_warp")
SUITE_DIRECTIONS = {"psnr": True, "ssim": True, "lmd": False, "identity_cos": True, "pose_error_deg": False,
                    "hs": True, "lip_sync_corr": True, "face_found": True, "identity_to_photo": True}
METRIC_DIRECTIONS: dict[str, bool] = {f"{k}{s}": v for s in SYSTEMS for k, v in SUITE_DIRECTIONS.items()}
METRIC_DIRECTIONS.update({"a2l_l1_px": False, "a2l_l1_px_static": False, "a2l_mouth_corr": True,
                          "a2l_open_rms_corr": True, "a2l_open_rms_corr_real": True})


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


def _identity_to_photo(fakes: np.ndarray, lms: np.ndarray, photo: np.ndarray, photo_lm: np.ndarray) -> list[float]:
    from avs.face import face_embedding

    ref = np.asarray(face_embedding(photo, photo_lm), np.float64)
    out = []
    for f, lm in zip(fakes, lms, strict=True):
        e = np.asarray(face_embedding(f, lm), np.float64)
        out.append(float(e @ ref / max(np.linalg.norm(e) * np.linalg.norm(ref), 1e-12)))
    return out


def system_clips(G: Any, a2l: Any, dataset: PairDataset, cfg: Any, device: Any = "cpu") -> dict[str, Any]:
    """The real crops and every system's crops of the test segments (module docstring).

    Returns:
        ``{"real": [...], "audio": [...], "lm": [...], "photo": [...], "photo_lm": [...], "": [...],
        "_audio": [...], "_photo": [...], "_warp": [...], "a2l": [(pred disp, real disp)]}``; image lists
        hold (T, 128, 128, 3) uint8 per segment.
    """
    from avs_rdgan.audio2landmark import predict_displacements
    from avs_rdgan.inference import own_box, recursive_frames

    out: dict[str, Any] = {k: [] for k in ("real", "audio", "lm", "photo", "photo_lm", "a2l", *SYSTEMS)}
    for clip, first, later in segments(dataset, int(cfg.eval.max_frames), int(cfg.eval.max_segments)):
        photo, photo_lm = clip.crops[first], clip.lm[first]
        targets = clip.lm[later]
        out["real"].append(clip.crops[later])
        out["lm"].append(targets)
        out["photo"].append(photo)
        out["photo_lm"].append(photo_lm)
        out[""].append(recursive_frames(G, photo, targets, photo, device))
        out["_photo"].append(np.repeat(photo[None], len(later), 0))
        out["_warp"].append(np.stack([warp_baseline(photo, photo_lm, lm) for lm in targets]))
        audio = None
        if clip.audio is not None:
            audio = np.concatenate([clip.audio[j * 640:(j + 1) * 640] for j in later])
            disp = predict_displacements(a2l, clip.audio, clip.num_frames, 16000, int(cfg.infer.smooth))
            own, _ = own_box(photo_lm[None] + float(cfg.infer.a2l_gain) * disp[later] * IMAGE_SIZE)
            out["_audio"].append(recursive_frames(G, photo, own, photo, device))
            v = np.flatnonzero(clip.valid)
            rms = np.sqrt(np.mean(np.square(clip.audio[:clip.num_frames * 640].reshape(-1, 640)), axis=1))
            real = clip.disp[v] - clip.disp[v].mean(0)
            out["a2l"].append((disp[v] - disp[v].mean(0), real, rms[v]))
        out["audio"].append(audio)
    return out


def evaluate(G: Any, a2l: Any, dataset: PairDataset, cfg: Any, device: Any = "cpu") -> dict[str, float]:
    """Metrics of RD-GAN (real-landmark and audio-driven) and both baselines on a test split.

    Returns:
        ``{metric + system suffix: value}``; keys in :data:`METRIC_DIRECTIONS`.

    Raises:
        AvsError: no test segment; the face extra is not installed (from ``avs.face``).
    """
    from avs.api import AvsError
    from avs.face import FaceImageClips, face_image_metrics

    sc = system_clips(G, a2l, dataset, cfg, device)
    if not sc["real"]:
        raise AvsError("no test segment with two valid frames to evaluate")
    has_audio = all(a is not None for a in sc["audio"])
    result: dict[str, float] = {}
    for suffix in SYSTEMS:
        fakes = sc[suffix]
        if len(fakes) != len(sc["real"]):
            continue  # the audio-driven system needs audio in every segment
        clips = FaceImageClips(real=sc["real"], fake=fakes, fps=25.0, audio=sc["audio"] if has_audio else None,
                               lm68_real=sc["lm"])
        metrics = face_image_metrics(clips)
        ids = [v for f, lm, p, plm in zip(fakes, sc["lm"], sc["photo"], sc["photo_lm"], strict=True)
               for v in _identity_to_photo(f, lm, p, plm)]
        metrics["identity_to_photo"] = float(np.mean(ids))
        result.update({f"{k}{suffix}": float(v) for k, v in metrics.items()})
    if sc["a2l"]:
        result.update(audio_landmark_metrics(sc["a2l"]))
    return result


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a, b)[0, 1]) if len(a) > 2 and a.std() > 0 and b.std() > 0 else float("nan")


def audio_landmark_metrics(segs: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> dict[str, float]:
    """Scores of the audio→landmark model (module docstring).

    Args:
        segs: per segment ``(predicted, real, rms)``: (V, 68, 2) displacements in face-box units (each
            centred over the segment) and (V,) RMS loudness per frame.

    Returns:
        ``a2l_l1_px``, ``a2l_l1_px_static``, ``a2l_mouth_corr``, ``a2l_open_rms_corr``,
        ``a2l_open_rms_corr_real`` (correlations: mean over segments where defined).
    """
    from avs_rdgan.audio2landmark import mouth_opening

    pred = np.concatenate([p for p, _, _ in segs])
    real = np.concatenate([r for _, r, _ in segs])
    out = {"a2l_l1_px": float(np.abs(pred - real).mean() * IMAGE_SIZE),
           "a2l_l1_px_static": float(np.abs(real).mean() * IMAGE_SIZE)}
    for key, pairs in (("a2l_mouth_corr", [(mouth_opening(p), mouth_opening(r)) for p, r, _ in segs]),
                       ("a2l_open_rms_corr", [(mouth_opening(p), e) for p, _, e in segs]),
                       ("a2l_open_rms_corr_real", [(mouth_opening(r), e) for _, r, e in segs])):
        vals = [c for c in (_corr(a, b) for a, b in pairs) if np.isfinite(c)]
        if vals:
            out[key] = float(np.mean(vals))
    return out


def predict_clips(G: Any, a2l: Any, dataset: PairDataset, cfg: Any, device: Any = "cpu") -> Any:
    """The audio-driven system's crops and the real crops as ``avs.face.FaceImageClips`` (``avs benchmark``)."""
    from avs.face import FaceImageClips

    sc = system_clips(G, a2l, dataset, cfg, device)
    fake = sc["_audio"] if len(sc["_audio"]) == len(sc["real"]) else sc[""]
    audio = sc["audio"] if all(a is not None for a in sc["audio"]) else None
    return FaceImageClips(real=sc["real"], fake=fake, fps=25.0, audio=audio, lm68_real=sc["lm"])


def render_examples(G: Any, dataset: PairDataset, cfg: Any, n: int, out_dir: Path, device: Any = "cpu") -> list[Path]:
    """Videos of ``n`` test segments: real | generated | warp baseline | target edge map, 25 fps, with sound.

    Returns:
        The written ``.mp4`` paths.
    """
    from avs.api import write_video
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
