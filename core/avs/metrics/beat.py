"""Beat consistency between speech and motion, in two named variants.

- ``bc_beat``: BEAT / EMAGE (Liu et al. 2022; PantoMatrix ``emage_evaltools/mertic.py::BC``):
  for every **audio** beat (librosa onset) take the nearest **motion** beat and average
  exp(−d²/2σ²), d and σ in **seconds** (σ = 0.3 s default; TalkSHOW used 0.5 s).
- ``beat_align_aist``: AIST++ "BeatAlign" (Li et al. 2021; google-research/mint
  ``tools/calculate_beat_scores.py``): the average over **motion** beats of exp(−d²/2σ²) to
  the nearest audio beat, with d and σ in **frames** (σ = 3 frames).

Motion beats are local minima of the mean joint speed (``scipy.signal.argrelextrema``,
order 7 frames): moments where the motion pauses or turns. Higher is better for both.
"""

from __future__ import annotations

import numpy as np

from avs.errors import AvsError


def motion_beats(motion: np.ndarray, fps: float, order: int = 7) -> np.ndarray:
    """Times (s) of motion beats: local minima of the mean joint speed.

    Args:
        motion: (T, K, D) joint positions (any unit) or (T, C) features, at ``fps``.
        fps: frames per second.
        order: frames on each side a minimum must beat (argrelextrema's ``order``).

    Returns:
        (B,) float64 seconds; the speed between frames t−1 and t is dated at frame t.

    Raises:
        AvsError: fewer than 3 frames, NaN, non-positive fps.
    """
    from scipy.signal import argrelextrema

    x = np.asarray(motion, np.float64)
    if fps <= 0:
        raise AvsError(f"motion beats: fps must be positive, got {fps}")
    if x.shape[0] < 3 or not np.isfinite(x).all():
        raise AvsError("motion beats need at least 3 frames of finite motion")
    if x.ndim == 2:
        x = x[:, :, None]
    speed = np.linalg.norm(np.diff(x, axis=0), axis=-1).mean(axis=-1)  # (T-1,)
    minima = argrelextrema(speed, np.less, order=order)[0]
    return (minima + 1) / float(fps)


def audio_beats(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Times (s) of audio beats: librosa onsets (``librosa.onset.onset_detect``, units='time')."""
    import librosa

    y = np.asarray(audio, np.float32)
    if y.ndim != 1 or y.size == 0 or not np.isfinite(y).all():
        raise AvsError("audio beats need a non-empty, finite mono waveform")
    return librosa.onset.onset_detect(y=y, sr=sample_rate, units="time")


def _nearest_score(reference: np.ndarray, other: np.ndarray, sigma: float) -> float:
    if sigma <= 0:
        raise AvsError(f"beat consistency: sigma must be positive, got {sigma}")
    reference, other = np.asarray(reference, np.float64), np.asarray(other, np.float64)
    if reference.size == 0:
        raise AvsError("beat consistency: no beats to score (silent audio or still motion)")
    if other.size == 0:
        return 0.0
    d = np.abs(reference[:, None] - other[None, :]).min(axis=1)
    return float(np.exp(-(d**2) / (2 * sigma**2)).mean())


def bc_beat(audio_beat_times: np.ndarray, motion_beat_times: np.ndarray, sigma: float = 0.3) -> float:
    """BEAT beat consistency: mean over audio beats of exp(−d²/2σ²) to the nearest motion beat.

    Args:
        audio_beat_times, motion_beat_times: (A,), (M,) seconds.
        sigma: seconds (0.3 as BEAT; 0.5 as TalkSHOW).

    Returns:
        In [0, 1]; 0 when there is no motion beat; higher is better.

    Raises:
        AvsError: no audio beat, non-positive sigma.
    """
    return _nearest_score(audio_beat_times, motion_beat_times, sigma)


def beat_align_aist(audio_beat_times: np.ndarray, motion_beat_times: np.ndarray, fps: float,
                    sigma_frames: float = 3.0) -> float:
    """AIST++ BeatAlign: mean over motion beats of exp(−d²/2σ²) to the nearest audio beat, in frames.

    Raises:
        AvsError: no motion beat, non-positive sigma.
    """
    return _nearest_score(np.asarray(motion_beat_times) * fps, np.asarray(audio_beat_times) * fps, sigma_frames)


def beat_consistency(motion: np.ndarray, fps: float, audio: np.ndarray, sample_rate: int,
                     sigma: float = 0.3) -> dict[str, float]:
    """Both variants for one clip, keyed by name with the variant in it.

    Returns:
        ``{"bc_beat_sigma0.3s": ..., "beat_align_aist_sigma3f": ...}`` (σ as given).
    """
    a, m = audio_beats(audio, sample_rate), motion_beats(motion, fps)
    result = {f"bc_beat_sigma{sigma:g}s": bc_beat(a, m, sigma)}
    result["beat_align_aist_sigma3f"] = beat_align_aist(a, m, fps) if m.size else 0.0
    return result
