"""One evaluation suite for every gesture method: the same clips, the same metric code.

A method turns a data-set split into :class:`GestureClips` (predicted and ground-truth keypoints
in pixels, with each clip's audio); :func:`gesture_metrics` scores any prediction of those clips,
and :func:`gesture_baselines` gives the predictions of the reference points every table needs:
the ground truth itself, the training mean pose, and "mismatched" ground truth (a random other
clip's motion — plausible motion that ignores the speech).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from avs.errors import AvsError
from avs.metrics import bc_beat, beat_align_aist, frechet_distance, l1, l1div, lip_sync_error, pck
from avs.metrics.beat import audio_beats, motion_beats

PCK_ALPHAS = (0.1, 0.2)
BC_SIGMA_S = 0.3

GESTURE_DIRECTIONS: dict[str, bool] = {
    "l1_px": False,
    "pck@0.1": True,
    "pck@0.2": True,
    f"bc_beat_sigma{BC_SIGMA_S:g}s": True,
    "beat_align_aist_sigma3f": True,
    "l1div_px": True,
    "lip_sync_error": False,
    "fgd": False,
    "ftd": False,
}
"""Higher-is-better flags of :func:`gesture_metrics`' keys. Diversity is "higher" by convention
(more varied motion); compare it with the ground truth's value, not blindly."""


@dataclass
class GestureClips:
    """Predictions and ground truth of the same clips, in the method's output space.

    Attributes:
        pred: (N, T, K, 2) float32 predicted keypoints, pixels, at ``fps``.
        gt: (N, T, K, 2) float32 ground-truth keypoints, pixels.
        fps: frames per second.
        audio: (N, S) float32 mono audio of each clip at ``sample_rate`` (for beat consistency),
            or None.
        sample_rate: audio rate in Hz.
        scored: indices of the keypoints scored by L1/PCK (Speech2Gesture: the 48 non-neck).
        mean_pose: (K, 2) the training split's mean pose in pixels (mean-pose baseline).
        lips: (upper, lower) lip keypoints for the lip-sync error, or None.
        features: a feature extractor (N, T, K, 2) pixels → (N, D) for a Fréchet distance, or None.
        feature_metric: the name of that distance (``"fgd"`` or ``"ftd"``).
    """

    pred: np.ndarray
    gt: np.ndarray
    fps: float
    audio: np.ndarray | None
    sample_rate: int
    scored: Sequence[int]
    mean_pose: np.ndarray
    lips: tuple[int, int] | None = None
    features: Callable[[np.ndarray], np.ndarray] | None = None
    feature_metric: str = "fgd"
    extras: dict[str, float] = field(default_factory=dict)

    def check(self) -> None:
        """Raise AvsError if the arrays do not fit together or hold NaN."""
        if self.gt.ndim != 4 or self.gt.shape[-1] != 2 or self.gt.shape[0] == 0:
            raise AvsError(f"ground truth must be (N, T, K, 2) with N > 0, got {self.gt.shape}")
        if self.pred.shape != self.gt.shape:
            raise AvsError(f"prediction {self.pred.shape} and ground truth {self.gt.shape} differ in shape")
        if not np.isfinite(self.pred).all() or not np.isfinite(self.gt).all():
            raise AvsError("prediction or ground truth contains NaN or infinity")
        if self.audio is not None and len(self.audio) != len(self.gt):
            raise AvsError(f"{len(self.audio)} audio clips for {len(self.gt)} motion clips")


def _beat_scores(pred: np.ndarray, audio: np.ndarray, fps: float, sample_rate: int) -> dict[str, float]:
    bc, ba = [], []
    for motion, wave in zip(pred, audio, strict=True):
        a = audio_beats(wave, sample_rate)
        if a.size == 0:
            continue  # a silent clip has no audio beat to score
        m = motion_beats(motion, fps)
        bc.append(bc_beat(a, m, BC_SIGMA_S))
        ba.append(beat_align_aist(a, m, fps) if m.size else 0.0)
    if not bc:
        return {}
    return {f"bc_beat_sigma{BC_SIGMA_S:g}s": float(np.mean(bc)), "beat_align_aist_sigma3f": float(np.mean(ba))}


def gather_clips(clips: GestureClips, pred: np.ndarray | None = None) -> tuple[GestureClips, np.ndarray | None]:
    """Under a distributed evaluation, every rank's clips (and prediction) concatenated in rank order.

    Fréchet distances, beat scores and PCK must see all clips, not one rank's shard
    (README, section Metrics). Outside ``torchrun`` (no process group) nothing changes and torch
    is not imported.
    """
    import os

    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return clips, pred
    from dataclasses import replace

    from avs.distributed import gather_arrays, is_distributed

    if not is_distributed():
        return clips, pred
    audio = gather_arrays(np.ascontiguousarray(clips.audio)) if clips.audio is not None else None
    gathered = replace(clips, pred=gather_arrays(np.ascontiguousarray(clips.pred)),
                       gt=gather_arrays(np.ascontiguousarray(clips.gt)), audio=audio)
    return gathered, (gather_arrays(np.ascontiguousarray(pred)) if pred is not None else None)


def gesture_metrics(clips: GestureClips, pred: np.ndarray | None = None,
                    reference_features: np.ndarray | None = None) -> dict[str, float]:
    """Score a prediction of ``clips`` (default ``clips.pred``) against ``clips.gt``.

    Returns:
        ``l1_px`` and ``pck@0.1``/``pck@0.2`` over ``clips.scored`` (speech2gesture definitions),
        beat consistency in both named variants (when audio is given), ``l1div_px`` (EMAGE L1
        diversity, mean over clips, pixels), ``lip_sync_error`` (when ``clips.lips``), and the
        Fréchet distance named ``clips.feature_metric`` (when ``clips.features``) between the
        prediction's and the ground truth's features (``reference_features`` reuses the latter).
        Directions: :data:`GESTURE_DIRECTIONS`. Under ``torchrun`` every rank passes its shard and
        gets the metrics of all ranks' clips (:func:`gather_clips`).

    Raises:
        AvsError: shapes that differ, NaN, empty sets.
    """
    clips, pred = gather_clips(clips, pred)
    clips.check()
    pred = clips.pred if pred is None else np.asarray(pred, np.float32)
    if pred.shape != clips.gt.shape:
        raise AvsError(f"prediction {pred.shape} and ground truth {clips.gt.shape} differ in shape")
    idx = np.asarray(list(clips.scored), dtype=int)
    p, g = pred[:, :, idx], clips.gt[:, :, idx]
    result = {"l1_px": l1(p, g)}
    for alpha in PCK_ALPHAS:
        result[f"pck@{alpha:g}"] = pck(p, g, alpha)
    if clips.audio is not None:
        result.update(_beat_scores(pred, clips.audio, clips.fps, clips.sample_rate))
    result["l1div_px"] = float(np.mean([l1div(clip[:, idx]) for clip in pred]))
    if clips.lips is not None:
        result["lip_sync_error"] = lip_sync_error(pred, clips.gt, *clips.lips)
    if clips.features is not None:
        real = clips.features(clips.gt) if reference_features is None else reference_features
        result[clips.feature_metric] = frechet_distance(clips.features(pred), real)
    return result


def derangement(n: int, seed: int = 0) -> np.ndarray:
    """A permutation of ``range(n)`` with no fixed point (n ≥ 2), from a seeded generator."""
    if n < 2:
        raise AvsError("the mismatched baseline needs at least 2 clips")
    rng = np.random.default_rng(seed)
    while True:
        perm = rng.permutation(n)
        if not (perm == np.arange(n)).any():
            return perm


def gesture_baselines(clips: GestureClips, seed: int = 0) -> dict[str, np.ndarray]:
    """Predictions of the reference points, each (N, T, K, 2) pixels.

    - ``ground truth``: the ground truth itself (the ceiling of L1/PCK; real BC and diversity).
    - ``mean pose``: the training split's mean pose at every frame (no motion at all).
    - ``mismatched``: the ground truth of another clip (a seeded derangement): real motion that
      ignores the speech.
    """
    clips.check()
    mean = np.broadcast_to(np.asarray(clips.mean_pose, np.float32), clips.gt.shape).copy()
    return {
        "ground truth": clips.gt,
        "mean pose": mean,
        "mismatched": clips.gt[derangement(len(clips.gt), seed)],
    }
