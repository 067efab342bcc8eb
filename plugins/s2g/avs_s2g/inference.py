"""Speech → keypoints for audio of any length, and evaluation over a data-set split.

Inference follows speech2gesture ``audio_to_multiple_pose_gan/predict_audio.py``, which runs the
whole clip, of any length, through the generator in one pass: the pose length is
``T = int(15 · samples / 16000)``, the network runs on ``T + 32 − T mod 32`` frames (the next multiple
of 32 above T, a full 32 more when T already is one; audio padded by reflection to that length) and the
result is cropped back to T. We do the same for clips up to ``cfg.infer.window_frames`` (360 frames =
24 s, SDT's demo limit); longer inputs run in overlapping passes of that length (each padded the same
way, with the real audio that follows where there is some) cross-faded by
:func:`avs.windowing.windowed_inference`, so memory stays flat. Decoding reverses the
normalisation (``pose_logic_lib.decode_pose_normalized_keypoints``, without the display scaling to
``jon``) and places the neck at the training data's mean neck position.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from avs.api import AvsError, GestureClips, Motion, gesture_metrics, log_mel, project_hands, windowed_inference
from avs.api import l1 as l1_metric
from avs_s2g.data import FPS, SAMPLE_RATE, check_stats, denormalise, hand_priors
from avs_s2g.model import FRAME_MULTIPLE
from avs_s2g.skeleton import HANDS, NON_NECK, NON_NECK_FLAT, flat_to_keypoints

STFT_TAIL = 400 - 160
"""Samples past a window's last frame that the last log-mel frame still needs (win − hop)."""
EVAL_BATCH = 32
GATE_CHUNK_FRAMES = 1024
"""Pose frames whose audio power :func:`silence_gate` computes at once (memory flat in the input length)."""


def num_pose_frames(num_samples: int) -> int:
    """Pose frames for ``num_samples`` of 16 kHz audio: floor(15 · samples / 16000)."""
    return int(FPS * num_samples) // SAMPLE_RATE


def _window_audio(audio: np.ndarray, start: int, padded_frames: int) -> np.ndarray:
    """Audio for pose frames [start, start + padded_frames): samples [start·16000/15, stop·16000/15)
    plus :data:`STFT_TAIL`, padded past the end of the input by reflection (zeros if too short)."""
    s0 = round(start * SAMPLE_RATE / FPS)
    s1 = round((start + padded_frames) * SAMPLE_RATE / FPS) + STFT_TAIL
    chunk = audio[s0:s1]
    short = (s1 - s0) - chunk.size
    if short > 0:
        chunk = np.pad(chunk, (0, short), mode="reflect" if chunk.size > 1 else "constant")
    return chunk


def padded_frames(num_frames: int) -> int:
    """Frames the generator runs on for ``num_frames`` output frames: ``T + 32 − T mod 32`` (speech2gesture
    ``predict_audio.py``: always the next multiple of 32 strictly above T)."""
    return num_frames + FRAME_MULTIPLE - num_frames % FRAME_MULTIPLE


def predict_normalised(G: Any, audio: np.ndarray, cfg: Any) -> np.ndarray:
    """Normalised poses for a whole recording: one pass up to ``cfg.infer.window_frames`` frames, else
    overlapping passes of that length (module docstring).

    Args:
        G: the generator (any mode; run in eval mode without gradient, mode restored after).
        audio: (N,) float32 mono at 16 kHz.
        cfg: an :class:`avs_s2g.config.S2GConfig` (``cfg.infer.window_frames``, ``overlap_frames``).

    Returns:
        (T, 98) float32 normalised poses at 15 fps, T = floor(15 · N / 16000).

    Raises:
        AvsError: audio shorter than one frame, not 1-D, non-finite; bad window settings.
    """
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim != 1:
        raise AvsError(f"expected mono audio of shape (N,), got shape {audio.shape}")
    if not np.isfinite(audio).all():
        raise AvsError("audio contains NaN or infinite samples")
    num_frames = num_pose_frames(audio.size)
    if num_frames == 0:
        raise AvsError(
            f"audio shorter than one frame: {audio.size} samples = {audio.size / SAMPLE_RATE:.3f} s, "
            f"need at least {1 / FPS:.3f} s"
        )
    window, overlap = int(cfg.infer.window_frames), int(cfg.infer.overlap_frames)
    if window < 1 or not 0 <= overlap < window:
        raise AvsError(f"infer.window_frames must be >= 1 and 0 <= infer.overlap_frames < window "
                       f"(got {window}, {overlap})")
    window = min(window, num_frames)  # one pass over the whole clip when it fits
    overlap = min(overlap, window - 1)
    device = next(G.parameters()).device
    was_training = G.training
    G.eval()

    def run(start: int, stop: int) -> np.ndarray:
        padded = padded_frames(stop - start)
        mel = torch.from_numpy(log_mel(_window_audio(audio, start, padded), SAMPLE_RATE)).to(device)
        return G(mel[None], padded)[0, : stop - start].float().cpu().numpy()

    try:
        with torch.no_grad():
            return windowed_inference(num_frames, window, overlap, run)
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
    normalised = predict_normalised(G, audio, cfg)
    normalised *= silence_gate(audio, len(normalised), float(cfg.infer.silence_gate_db))[:, None]
    pose = denormalise(normalised, stats)
    keypoints = flat_to_keypoints(pose) + stats["neck"]
    if cfg.infer.hand_prior:
        keypoints = apply_hand_prior(keypoints, stats, float(cfg.infer.hand_prior_clip))
    return Motion(kind="keypoints-2d", data=np.ascontiguousarray(keypoints, dtype=np.float32), fps=FPS)


def apply_hand_prior(keypoints: np.ndarray, stats: dict[str, np.ndarray], clip: float) -> np.ndarray:
    """Both hands of (T, 49, 2) pixel keypoints projected onto the checkpoint's hand-shape priors
    (:func:`avs.api.project_hands`); unchanged when the statistics carry no prior."""
    priors = hand_priors(stats)
    if priors is None:
        return keypoints
    out = np.array(keypoints, dtype=np.float32)
    for side, points in HANDS.items():
        out[:, list(points)] = project_hands(out[:, list(points)], priors[side], clip)
    return out


def silence_gate(audio: np.ndarray, num_frames: int, threshold_db: float) -> np.ndarray:
    """Per pose frame, 1 where there is sound and 0 in silence (the rest pose is 0 once normalised).

    Args:
        audio: (N,) float32 mono at 16 kHz.
        num_frames: pose frames at 15 fps.
        threshold_db: RMS level in dBFS under which a frame counts as silent; the gate rises
            linearly from ``threshold_db − 10`` to ``threshold_db`` and is smoothed over 5 frames.

    Returns:
        (num_frames,) float32 in [0, 1]; all ones when ``threshold_db`` is ``-inf``.
    """
    from scipy.ndimage import uniform_filter1d

    if num_frames == 0 or threshold_db == -math.inf:
        return np.ones(num_frames, np.float32)
    hop = SAMPLE_RATE / FPS
    edges = (np.arange(num_frames + 1) * hop).astype(int)
    power = np.empty(num_frames, np.float64)
    step = GATE_CHUNK_FRAMES  # float64 squares of about a minute at a time, never of the whole input
    for f0 in range(0, num_frames, step):
        f1 = min(f0 + step, num_frames)
        chunk = np.asarray(audio[edges[f0] : edges[f1]], np.float64) ** 2
        power[f0:f1] = np.add.reduceat(chunk, edges[f0:f1] - edges[f0]) / np.diff(edges[f0 : f1 + 1])
    level_db = 10 * np.log10(power + 1e-20)
    gate = np.clip((level_db - (threshold_db - 10.0)) / 10.0, 0.0, 1.0)
    return uniform_filter1d(gate, size=5, mode="nearest").astype(np.float32)


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
