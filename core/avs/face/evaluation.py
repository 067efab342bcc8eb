"""The ``face-image`` task: real vs generated talking-face frames, one metric suite, two baselines.

Metrics (:func:`face_image_metrics`):

- ``psnr``, ``ssim`` — per frame with :mod:`avs.metrics` (SSIM with RD-GAN's settings), averaged.
- ``lmd`` — landmark distance: mean distance of the generated frame's 68 dlib points from the real
  frame's after a least-squares similarity alignment (removes head pose and scale), divided by the
  real frame's inter-ocular distance (outer eye corners 36–45); lower is better.
- ``identity_cos`` — cosine similarity of the dlib 128-d embeddings of the generated and the real
  clip (each averaged over up to 8 frames); higher is better (same person ≳ 0.82).
- ``pose_error_deg`` — mean absolute difference of the head's Euler angles (degrees), both clips
  posed against the real clip's mean MediaPipe shape (:mod:`avs.face.model`).
- ``hs`` — head-pose similarity of PHADTF (Yi et al. 2020, arXiv 2002.10137, Sec. 5, "HS", larger
  is better). The paper's exact formula could not be checked while this was written; it is
  implemented as the mean over pitch, yaw and roll of the intersection of the two clips' normalised
  angle histograms (common bins of 1° over the union range), which is 1 for identical pose
  distributions and 0 for disjoint ones — see ``docs/face.md``.
- ``lip_sync_corr`` — a lip-sync proxy (no SyncNet weights are shipped): Pearson correlation between
  the generated mouth opening (inner lips 62–66 / inter-ocular distance) and the audio's RMS
  envelope per frame; 0 for a still mouth.
- ``face_found`` — fraction of generated frames in which a face was found.

Baselines (:func:`face_image_baselines`): the still first real frame; the real frames of another clip.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from avs.errors import AvsError

FACE_IMAGE_DIRECTIONS: dict[str, bool] = {
    "psnr": True, "ssim": True, "lmd": False, "identity_cos": True, "pose_error_deg": False, "hs": True,
    "lip_sync_corr": True, "face_found": True,
}
"""Higher-is-better flags of :func:`face_image_metrics`' keys."""

EYE_OUTER = (36, 45)
INNER_LIPS = (62, 66)
HS_BIN_DEG = 1.0
EMBED_FRAMES = 8


@dataclass
class FaceImageClips:
    """Real and generated frames of the same clips.

    Attributes:
        real: per clip (T, H, W, 3) uint8 RGB real frames.
        fake: per clip (T, H, W, 3) uint8 RGB generated frames (same shape as ``real``).
        fps: frames per second.
        audio: per clip (S,) float32 mono audio at ``sample_rate`` (S ≈ T·sample_rate/fps), or None.
        sample_rate: Hz.
        lm68_real: per clip (T, 68, 2) landmarks of the real frames if already tracked, else None.
        names: clip names for reports.
    """

    real: list[np.ndarray]
    fake: list[np.ndarray]
    fps: float = 25.0
    audio: list[np.ndarray] | None = None
    sample_rate: int = 16000
    lm68_real: list[np.ndarray] | None = None
    names: list[str] = field(default_factory=list)

    def check(self) -> None:
        """AvsError if the clips do not fit together."""
        if not self.real:
            raise AvsError("no clips to score")
        if len(self.fake) != len(self.real):
            raise AvsError(f"{len(self.fake)} generated clips for {len(self.real)} real clips")
        for i, (r, f) in enumerate(zip(self.real, self.fake, strict=True)):
            if r.ndim != 4 or r.shape[-1] != 3 or r.dtype != np.uint8 or len(r) == 0:
                raise AvsError(f"clip {i}: real frames must be (T, H, W, 3) uint8 with T > 0, got {r.shape} {r.dtype}")
            if f.shape != r.shape or f.dtype != np.uint8:
                raise AvsError(f"clip {i}: generated frames {f.shape} {f.dtype} differ from real {r.shape} uint8")
        if self.audio is not None and len(self.audio) != len(self.real):
            raise AvsError(f"{len(self.audio)} audio tracks for {len(self.real)} clips")
        if self.lm68_real is not None and [len(x) for x in self.lm68_real] != [len(r) for r in self.real]:
            raise AvsError("lm68_real must give one (68, 2) array per real frame")


def _track(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lm68 (T, 68, 2), lm478 (T, 478, 3), found (T,)) with NaN where no face."""
    from avs.face.tracking import FaceTracker

    T = len(frames)
    lm68 = np.full((T, 68, 2), np.nan, np.float32)
    lm478 = np.full((T, 478, 3), np.nan, np.float32)
    with FaceTracker() as tracker:
        for i, frame in enumerate(frames):
            tr = tracker(frame)
            if tr is not None:
                lm68[i], lm478[i] = tr.lm68, tr.lm478
    return lm68, lm478, np.isfinite(lm68).all(axis=(1, 2))


def interocular(lm68: np.ndarray) -> np.ndarray:
    """(T,) distance between the outer eye corners (points 36 and 45), pixels."""
    return np.linalg.norm(lm68[..., EYE_OUTER[1], :] - lm68[..., EYE_OUTER[0], :], axis=-1)


def landmark_distance(fake68: np.ndarray, real68: np.ndarray) -> np.ndarray:
    """(T,) aligned 68-point distance / inter-ocular distance (NaN where either frame lacks a face)."""
    from skimage.transform import SimilarityTransform

    out = np.full(len(real68), np.nan)
    for i, (f, r) in enumerate(zip(fake68, real68, strict=True)):
        if not (np.isfinite(f).all() and np.isfinite(r).all()):
            continue
        if hasattr(SimilarityTransform, "from_estimate"):
            tform = SimilarityTransform.from_estimate(f.astype(np.float64), r.astype(np.float64))
        else:
            tform = SimilarityTransform()
            tform.estimate(f.astype(np.float64), r.astype(np.float64))
        out[i] = np.linalg.norm(tform(f.astype(np.float64)) - r, axis=-1).mean() / max(interocular(r), 1e-6)
    return out


def hs_score(euler_fake: np.ndarray, euler_real: np.ndarray, bin_deg: float = HS_BIN_DEG) -> float:
    """Head-pose similarity (PHADTF's HS, reconstructed): mean over the 3 angles of the histogram
    intersection of the two clips' angle distributions (bins of ``bin_deg`` degrees); in [0, 1].

    Args:
        euler_fake, euler_real: (T, 3) radians (NaN rows ignored).
    """
    f = np.degrees(np.asarray(euler_fake, np.float64))
    r = np.degrees(np.asarray(euler_real, np.float64))
    f, r = f[np.isfinite(f).all(1)], r[np.isfinite(r).all(1)]
    if len(f) == 0 or len(r) == 0:
        return float("nan")
    scores = []
    for k in range(3):
        lo = np.floor(min(f[:, k].min(), r[:, k].min()) / bin_deg) * bin_deg
        hi = np.ceil(max(f[:, k].max(), r[:, k].max()) / bin_deg) * bin_deg + bin_deg
        bins = np.arange(lo, hi + bin_deg / 2, bin_deg)
        hf = np.histogram(f[:, k], bins)[0] / len(f)
        hr = np.histogram(r[:, k], bins)[0] / len(r)
        scores.append(np.minimum(hf, hr).sum())
    return float(np.mean(scores))


def mouth_opening(lm68: np.ndarray) -> np.ndarray:
    """(T,) inner-lip gap (points 62–66) divided by the inter-ocular distance."""
    gap = np.linalg.norm(lm68[:, INNER_LIPS[1]] - lm68[:, INNER_LIPS[0]], axis=-1)
    return gap / np.maximum(interocular(lm68), 1e-6)


def audio_envelope(audio: np.ndarray, num_frames: int, fps: float, sample_rate: int) -> np.ndarray:
    """(num_frames,) RMS of the audio in each frame's window (librosa.feature.rms, hop = one frame)."""
    import librosa

    hop = int(round(sample_rate / fps))
    audio = np.asarray(audio, np.float32)
    audio = np.pad(audio, (0, max(0, num_frames * hop - len(audio))))[: num_frames * hop]
    rms = librosa.feature.rms(y=audio, frame_length=2 * hop, hop_length=hop, center=True)[0]
    return rms[:num_frames]


def lip_sync_corr(lm68: np.ndarray, audio: np.ndarray, fps: float, sample_rate: int) -> float:
    """Pearson correlation of mouth opening and audio RMS envelope over frames with a face; 0 if either is flat."""
    opening = mouth_opening(lm68)
    env = audio_envelope(audio, len(lm68), fps, sample_rate)
    ok = np.isfinite(opening)
    if ok.sum() < 3 or opening[ok].std() < 1e-9 or env[ok].std() < 1e-12:
        return 0.0
    return float(np.corrcoef(opening[ok], env[ok])[0, 1])


def _clip_embedding(frames: np.ndarray, lm68: np.ndarray) -> np.ndarray | None:
    from avs.face.embedding import face_embedding

    idx = np.flatnonzero(np.isfinite(lm68).all(axis=(1, 2)))
    if len(idx) == 0:
        return None
    pick = idx[np.linspace(0, len(idx) - 1, min(EMBED_FRAMES, len(idx))).round().astype(int)]
    e = np.mean([face_embedding(frames[i], lm68[i]) for i in pick], axis=0)
    return e / np.linalg.norm(e)


def face_image_metrics(clips: FaceImageClips) -> dict[str, float]:
    """Score generated against real frames (see the module docstring for each metric).

    Returns:
        Metric name → value averaged over clips (frame-level metrics over all frames with a face).

    Raises:
        AvsError: clips that do not fit together; the face extra is not installed.
    """
    from avs.face.model import mean_shape, rigid_fit
    from avs.metrics import psnr, ssim

    clips.check()
    psnrs, ssims, lmds, ids, pose_err, hss, syncs, found = [], [], [], [], [], [], [], []
    for c, (real, fake) in enumerate(zip(clips.real, clips.fake, strict=True)):
        for r, f in zip(real, fake, strict=True):
            p = psnr(f, r)
            if np.isfinite(p):
                psnrs.append(p)
            ssims.append(ssim(f, r))
        f68, f478, f_ok = _track(fake)
        r68, r478, r_ok = _track(real)
        if clips.lm68_real is not None:
            r68 = np.asarray(clips.lm68_real[c], np.float32)
        found.append(float(f_ok.mean()))
        lmds.extend(x for x in landmark_distance(f68, r68) if np.isfinite(x))
        er, ef = _clip_embedding(real, r68), _clip_embedding(fake, f68)
        if er is not None and ef is not None:
            ids.append(float(er @ ef))
        if r_ok.any():
            ident = mean_shape(r478[r_ok])
            eul_r = rigid_fit(r478, r_ok, ident)[0]
            eul_f = rigid_fit(f478, f_ok, ident)[0]
            both = r_ok & f_ok
            if both.any():
                pose_err.append(float(np.degrees(np.abs(eul_f[both] - eul_r[both])).mean()))
            hss.append(hs_score(eul_f, eul_r))
        if clips.audio is not None:
            syncs.append(lip_sync_corr(f68, clips.audio[c], clips.fps, clips.sample_rate))

    def mean(xs: Sequence[float]) -> float:
        xs = [x for x in xs if np.isfinite(x)]
        return float(np.mean(xs)) if xs else float("nan")

    out = {"psnr": mean(psnrs) if psnrs else float("inf"), "ssim": mean(ssims), "lmd": mean(lmds),
           "identity_cos": mean(ids), "pose_error_deg": mean(pose_err), "hs": mean(hss), "face_found": mean(found)}
    if clips.audio is not None:
        out["lip_sync_corr"] = mean(syncs)
    return out


def _fit_to(frames: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    import cv2

    T, H, W = shape[:3]
    idx = np.arange(T) % len(frames)
    if frames.shape[1:3] == (H, W):
        return frames[idx]
    return np.stack([cv2.resize(frames[i], (W, H), interpolation=cv2.INTER_AREA) for i in idx])


def face_image_baselines(clips: FaceImageClips, seed: int = 0) -> dict[str, list[np.ndarray]]:
    """Generated-frame stand-ins every table needs.

    Returns:
        ``still_first_frame``: each clip's first real frame held; ``other_clip``: the real frames of a
        random other clip (a derangement; resized and looped to the clip's shape) — a real face that
        ignores the speech and the identity. With one clip, ``other_clip`` is that clip reversed in time.
    """
    from avs.evaluation import derangement

    still = [np.repeat(r[:1], len(r), axis=0) for r in clips.real]
    n = len(clips.real)
    if n > 1:
        perm = derangement(n, seed)
        other = [_fit_to(clips.real[int(perm[i])], clips.real[i].shape) for i in range(n)]
    else:
        other = [clips.real[0][::-1].copy()]
    return {"still_first_frame": still, "other_clip": other}


@dataclass(frozen=True)
class FaceImageSuite:
    """The face-image task's evaluation suite, shaped like core's ``TaskSuite``: a task name, its clip
    container type, ``score(clips) -> dict``, metric directions and baselines."""

    task: str
    clip_type: type
    score: Callable[[FaceImageClips], dict[str, float]]
    directions: dict[str, bool]
    baselines: Callable[[FaceImageClips], dict[str, list[np.ndarray]]]


FACE_IMAGE_SUITE = FaceImageSuite(task="face-image", clip_type=FaceImageClips, score=face_image_metrics,
                                  directions=FACE_IMAGE_DIRECTIONS, baselines=face_image_baselines)
