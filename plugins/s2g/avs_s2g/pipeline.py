"""Speech → keypoints around the generator, without torch: windows of audio, log-mel, the silence gate
and decoding to pixels. The generator itself is a callable (torch in :mod:`avs_s2g.inference`, onnxruntime
in :mod:`avs_s2g.runtime`), so both backends share every other step.

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
from collections.abc import Callable
from typing import Any

import numpy as np

from avs.api import AvsError, Motion, log_mel, mono_audio, project_hands, windowed_inference
from avs_s2g.data import FPS, FRAME_MULTIPLE, SAMPLE_RATE, check_stats, denormalise, hand_priors
from avs_s2g.skeleton import HANDS, flat_to_keypoints

STFT_TAIL = 400 - 160
"""Samples past a window's last frame that the last log-mel frame still needs (win − hop)."""
GATE_CHUNK_FRAMES = 1024
"""Pose frames whose audio power :func:`silence_gate` computes at once (memory flat in the input length)."""
GATE_SMOOTH_FRAMES = 5
"""Frames the silence gate is averaged over."""

WindowRunner = Callable[[np.ndarray, int], np.ndarray]
"""``run(mel, num_frames) -> poses``: the generator on one window, mel (1, T_mel, 64) float32 log-mel,
``num_frames`` a multiple of 32, poses (num_frames, 98) float32 normalised."""


def num_pose_frames(num_samples: int) -> int:
    """Pose frames for ``num_samples`` of 16 kHz audio: floor(15 · samples / 16000)."""
    return int(FPS * num_samples) // SAMPLE_RATE


def window_audio(audio: np.ndarray, start: int, padded_frames: int) -> np.ndarray:
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


def window_mel(audio: np.ndarray, start: int, padded: int) -> np.ndarray:
    """(1, T_mel, 64) float32 log-mel of the audio of pose frames [start, start + padded) (:func:`window_audio`)."""
    return log_mel(window_audio(audio, start, padded), SAMPLE_RATE)[None]


def normalised_poses(run: WindowRunner, audio: np.ndarray, cfg: Any) -> np.ndarray:
    """Normalised poses for a whole recording: one pass up to ``cfg.infer.window_frames`` frames, else
    overlapping passes of that length (module docstring).

    Args:
        run: the generator on one window (:data:`WindowRunner`).
        audio: (N,) float32 mono at 16 kHz.
        cfg: an :class:`avs_s2g.config.S2GConfig` (``cfg.infer.window_frames``, ``overlap_frames``).

    Returns:
        (T, 98) float32 normalised poses at 15 fps, T = floor(15 · N / 16000).

    Raises:
        AvsError: audio shorter than one frame, not 1-D, non-finite; bad window settings.
    """
    audio = mono_audio(audio)
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

    def one(start: int, stop: int) -> np.ndarray:
        padded = padded_frames(stop - start)
        return run(window_mel(audio, start, padded), padded)[: stop - start]

    return windowed_inference(num_frames, window, overlap, one)


def to_motion(normalised: np.ndarray, audio: np.ndarray, cfg: Any, stats: dict[str, np.ndarray]) -> Motion:
    """Normalised poses → the gated, decoded keypoints of :func:`avs_s2g.inference.predict`.

    Args:
        normalised: (T, 98) float32 from :func:`normalised_poses` (scaled in place by the gate).
        audio: the (N,) float32 16 kHz audio they were predicted from (for the silence gate).
        cfg: an :class:`avs_s2g.config.S2GConfig` (``cfg.infer.silence_gate_db``, ``cfg.infer.hand_prior``).
        stats: ``mean``, ``std``, ``neck`` and the optional hand priors (:func:`avs_s2g.data.compute_stats`).

    Returns:
        ``Motion(kind="keypoints-2d", data=(T, 49, 2) float32 pixels (x, y), fps=15)``.

    Raises:
        AvsError: bad statistics.
    """
    stats = check_stats(stats)
    normalised *= silence_gate(audio, len(normalised), float(cfg.infer.silence_gate_db))[:, None]
    keypoints = flat_to_keypoints(denormalise(normalised, stats)) + stats["neck"]
    if cfg.infer.hand_prior:
        keypoints = apply_hand_prior(keypoints, stats, float(cfg.infer.hand_prior_clip))
    return Motion(kind="keypoints-2d", data=np.ascontiguousarray(keypoints, dtype=np.float32), fps=FPS)


def apply_hand_prior(keypoints: np.ndarray, stats: dict[str, np.ndarray], clip: float) -> np.ndarray:
    """Both hands of (T, 49, 2) pixel keypoints projected onto the checkpoint's hand-shape priors
    (:func:`avs.api.project_hands`, ``infer.hand_prior``); unchanged when the statistics carry no prior.

    Raises:
        AvsError: a stored prior of the wrong shape.
    """
    priors = hand_priors(stats)
    if priors is None:
        return keypoints
    out = np.array(keypoints, dtype=np.float32)
    for side, points in HANDS.items():
        out[:, list(points)] = project_hands(out[:, list(points)], priors[side], clip)
    return out


def predict(run: WindowRunner, audio: np.ndarray, cfg: Any, stats: dict[str, np.ndarray]) -> Motion:
    """Speech → 49 keypoints per frame in source-video pixels, with ``run`` as the generator.

    Args:
        run: the generator on one window (:data:`WindowRunner`).
        audio: (N,) float32 mono at 16 kHz, any length ≥ one frame (1/15 s).
        cfg: an :class:`avs_s2g.config.S2GConfig`.
        stats: ``mean``, ``std``, ``neck``.

    Returns:
        ``Motion(kind="keypoints-2d", data=(T, 49, 2) float32 pixels, fps=15)``, T = floor(15 · N / 16000).

    Raises:
        AvsError: audio shorter than one frame, bad audio, bad statistics or window settings.
    """
    check_stats(stats)
    return to_motion(normalised_poses(run, audio, cfg), audio, cfg, stats)


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
    # 5-frame moving average, edges repeated: scipy.ndimage.uniform_filter1d(gate, 5, mode="nearest") (the test
    # compares), in numpy because importing scipy.ndimage costs a cold predict 0.4 s of CPU
    smooth = np.convolve(np.pad(gate, GATE_SMOOTH_FRAMES // 2, mode="edge"),
                         np.full(GATE_SMOOTH_FRAMES, 1.0 / GATE_SMOOTH_FRAMES), mode="valid")
    return smooth.astype(np.float32)
