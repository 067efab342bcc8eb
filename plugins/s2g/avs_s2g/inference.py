"""Speech → keypoints with the torch generator, and evaluation over a data-set split.

Everything around the network (windows, log-mel, silence gate, decoding; the reference's one-pass
inference) is in :mod:`avs_s2g.pipeline`, shared with the torch-free ONNX path (:mod:`avs_s2g.runtime`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from avs.api import AvsError, GestureClips, Motion, gesture_metrics
from avs.api import l1 as l1_metric
from avs_s2g import pipeline
from avs_s2g.data import FPS, SAMPLE_RATE, check_stats, denormalise
from avs_s2g.pipeline import (  # noqa: F401 (re-exported: this module's names before the split)
    GATE_CHUNK_FRAMES,
    STFT_TAIL,
    num_pose_frames,
    padded_frames,
    silence_gate,
)
from avs_s2g.skeleton import NON_NECK, NON_NECK_FLAT, flat_to_keypoints

EVAL_BATCH = 32


def torch_runner(G: Any) -> pipeline.WindowRunner:
    """The generator as a :data:`avs_s2g.pipeline.WindowRunner` (no gradient; call inside eval mode)."""
    device = next(G.parameters()).device

    def run(mel: np.ndarray, num_frames: int) -> np.ndarray:
        return G(torch.from_numpy(mel).to(device), num_frames)[0].float().cpu().numpy()

    return run


def predict_normalised(G: Any, audio: np.ndarray, cfg: Any) -> np.ndarray:
    """Normalised poses for a whole recording (:func:`avs_s2g.pipeline.normalised_poses` with ``G``).

    Args:
        G: the generator (any mode; run in eval mode without gradient, mode restored after).
        audio: (N,) float32 mono at 16 kHz.
        cfg: an :class:`avs_s2g.config.S2GConfig` (``cfg.infer.window_frames``, ``overlap_frames``).

    Returns:
        (T, 98) float32 normalised poses at 15 fps, T = floor(15 · N / 16000).

    Raises:
        AvsError: audio shorter than one frame, not 1-D, non-finite; bad window settings.
    """
    was_training = G.training
    G.eval()
    try:
        with torch.no_grad():
            return pipeline.normalised_poses(torch_runner(G), audio, cfg)
    finally:
        G.train(was_training)


def predict(G: Any, audio: np.ndarray, cfg: Any, stats: dict[str, np.ndarray]) -> Motion:
    """Speech → 49 keypoints per frame in source-video pixels.

    Args:
        G: the generator.
        audio: (N,) float32 mono at 16 kHz, any length ≥ one frame (1/15 s); 10-minute inputs run
            in windows of ``cfg.infer.window_frames`` with flat memory.
        cfg: an :class:`avs_s2g.config.S2GConfig`.
        stats: from :func:`avs_s2g.data.compute_stats` (``mean``, ``std``, ``neck``).

    Returns:
        ``Motion(kind="keypoints-2d", data=(T, 49, 2) float32 pixels (x, y), fps=15)``,
        T = floor(15 · N / 16000).

    Raises:
        AvsError: audio shorter than one frame, bad audio, bad statistics or window settings.
    """
    stats = check_stats(stats)
    return pipeline.to_motion(predict_normalised(G, audio, cfg), audio, cfg, stats)


def _to_pixels(pose: np.ndarray, stats: dict[str, np.ndarray]) -> np.ndarray:
    """(..., 98) normalised poses → (..., 49, 2) float32 pixels (neck at the training mean neck)."""
    return flat_to_keypoints(denormalise(pose, stats)).astype(np.float32)


def _clips(pred: np.ndarray, gt: np.ndarray, dataset: Any, stats: dict[str, np.ndarray]) -> GestureClips:
    audio = np.stack([dataset.window_audio(i) for i in range(len(dataset))])
    return GestureClips(
        pred=_to_pixels(pred, stats), gt=_to_pixels(gt, stats), fps=FPS, audio=audio, sample_rate=SAMPLE_RATE,
        scored=list(NON_NECK), mean_pose=_to_pixels(np.zeros(pred.shape[-1], np.float32), stats),
    )


def _predict_windows(G: Any, dataset: Any) -> tuple[np.ndarray, np.ndarray]:
    """(N, 64, 98) normalised predictions and ground truth of every window of ``dataset``."""
    if len(dataset) == 0:
        raise AvsError("nothing to evaluate: the split is empty")
    device = next(G.parameters()).device
    was_training = G.training
    G.eval()
    preds, gts = [], []
    try:
        with torch.no_grad():
            for i in range(0, len(dataset), EVAL_BATCH):
                items = [dataset[j] for j in range(i, min(i + EVAL_BATCH, len(dataset)))]
                mel = torch.from_numpy(np.stack([it["mel"] for it in items])).to(device)
                gt = np.stack([it["pose"] for it in items])
                preds.append(G(mel, gt.shape[1]).float().cpu().numpy())
                gts.append(gt)
    finally:
        G.train(was_training)
    return np.concatenate(preds), np.concatenate(gts)


def predict_clips(G: Any, dataset: Any, cfg: Any, stats: dict[str, np.ndarray]) -> GestureClips:
    """Predictions and ground truth of every window of a split, in pixels, with their audio.

    Returns:
        :class:`avs.evaluation.GestureClips` with (N, 64, 49, 2) float32 pixels at 15 fps, the
        (N, 67267) 16 kHz window audio, the 48 non-neck keypoints scored, and the training mean pose.

    Raises:
        AvsError: an empty dataset or bad statistics.
    """
    stats = check_stats(stats)
    pred, gt = _predict_windows(G, dataset)
    return _clips(pred, gt, dataset, stats)


def evaluate(G: Any, dataset: Any, cfg: Any, stats: dict[str, np.ndarray]) -> dict[str, float]:
    """Metrics of the generator over a data-set split (48 non-neck keypoints, every frame).

    Args:
        G: the generator (run in eval mode without gradient, mode restored after).
        dataset: an :class:`avs_s2g.data.S2GDataset` split (items ``mel`` (418, 64), ``pose`` (64, 98)).
        cfg: an :class:`avs_s2g.config.S2GConfig`.
        stats: the statistics the dataset was normalised with.

    Returns:
        ``l1`` (normalised units, speech2gesture's training metric) and core's gesture suite
        (:func:`avs.evaluation.gesture_metrics`): ``l1_px``, ``pck@0.1``, ``pck@0.2`` (speech2gesture
        ``common/evaluation.py::compute_pck``), beat consistency, ``l1div_px``.

    Raises:
        AvsError: an empty dataset or bad statistics.
    """
    stats = check_stats(stats)
    pred, gt = _predict_windows(G, dataset)
    sel = list(NON_NECK_FLAT)
    return {"l1": l1_metric(pred[..., sel], gt[..., sel]), **gesture_metrics(_clips(pred, gt, dataset, stats))}


def mean_pose_baseline(dataset: Any, stats: dict[str, np.ndarray]) -> dict[str, float]:
    """The metrics of :func:`evaluate` for always predicting the training split's mean pose.

    The mean pose is 0 in normalised units, so ``l1`` is the mean |normalised ground truth|: a
    model that learned anything from the audio must do better.

    Args:
        dataset: an :class:`avs_s2g.data.S2GDataset` split.
        stats: its normalisation statistics.

    Returns:
        The keys of :func:`evaluate`, for the constant mean pose.
    """
    stats = check_stats(stats)
    if len(dataset) == 0:
        raise AvsError("nothing to evaluate: the split is empty")
    gt = np.stack([dataset[j]["pose"] for j in range(len(dataset))])
    mean = np.zeros_like(gt)
    sel = list(NON_NECK_FLAT)
    return {"l1": l1_metric(mean[..., sel], gt[..., sel]), **gesture_metrics(_clips(mean, gt, dataset, stats))}
