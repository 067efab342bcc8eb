"""PHADTF's audio front-end: MFCC 13 at 100 Hz, one 28×12 window per 25 fps video frame.

Reference: ``Audio/code/atcnet_test1.py`` and ``train_19news_1.py::get_mfcc_extend`` — 16 kHz speech
padded with 1920 zeros (0.12 s) at both ends, ``python_speech_features.mfcc(speech, 16000, winstep=0.01)``
(25 ms window, 26 filters, NFFT 512, pre-emphasis 0.97, lifter 22, c0 replaced by the log frame energy);
the window of video frame k is MFCC rows ``4k .. 4k+27`` with column 0 dropped (``dataset.py``).
We call the same library with the same parameters.
"""

from __future__ import annotations

import numpy as np

from avs.api import AvsError
from avs_phadtf.config import AudioConfig

SAMPLE_RATE = 16000
FPS = 25
SAMPLES_PER_FRAME = SAMPLE_RATE // FPS
MFCC_PER_FRAME = 4
"""MFCC rows per video frame: 100 Hz / 25 fps."""


def mfcc(speech: np.ndarray, cfg: AudioConfig | None = None) -> np.ndarray:
    """MFCCs of padded speech, as the reference computes them.

    Args:
        speech: (N,) float mono at 16 kHz, in [-1, 1].
        cfg: front-end parameters (defaults: the reference's).

    Returns:
        (M, 13) float64 MFCCs at 100 Hz of the speech padded with ``cfg.pad_samples`` zeros at both ends;
        column 0 is the log frame energy (python_speech_features ``appendEnergy``).

    Raises:
        AvsError: empty or non-1-D audio.
    """
    import python_speech_features

    cfg = cfg or AudioConfig()
    speech = np.asarray(speech, dtype=np.float64)
    if speech.ndim != 1 or speech.size == 0:
        raise AvsError(f"expected mono audio samples, got shape {speech.shape}")
    pad = np.zeros(cfg.pad_samples)
    padded = np.concatenate([pad, speech, pad])
    return python_speech_features.mfcc(
        padded, SAMPLE_RATE, winlen=cfg.winlen, winstep=cfg.winstep, numcep=cfg.numcep, nfilt=cfg.nfilt,
        nfft=cfg.nfft, preemph=cfg.preemph, ceplifter=cfg.ceplifter, appendEnergy=True,
    )


def frame_windows(features: np.ndarray, num_frames: int, cfg: AudioConfig | None = None) -> np.ndarray:
    """One MFCC window per video frame: rows ``4k .. 4k+27``, c0 dropped.

    The reference (``atcnet_test1.py``) stops at the last complete window, which yields ``T - 1`` windows for
    ``T`` frames of audio; we pad the MFCC rows by repeating the last row so that every one of the
    ``num_frames`` frames has a window (the last one lies in the 0.12 s zero padding anyway).

    Args:
        features: (M, 13) from :func:`mfcc`.
        num_frames: video frames T to cover.

    Returns:
        (T, 28, 12) float32.
    """
    cfg = cfg or AudioConfig()
    need = MFCC_PER_FRAME * (num_frames - 1) + cfg.window_mfcc
    if features.shape[0] < need:
        extra = np.repeat(features[-1:], need - features.shape[0], axis=0)
        features = np.concatenate([features, extra], axis=0)
    starts = MFCC_PER_FRAME * np.arange(num_frames)
    idx = starts[:, None] + np.arange(cfg.window_mfcc)[None, :]
    return features[idx, 1:].astype(np.float32)


def speech_windows(speech: np.ndarray, num_frames: int | None = None, cfg: AudioConfig | None = None) -> np.ndarray:
    """MFCC windows of every video frame of ``speech``.

    Args:
        speech: (N,) float mono at 16 kHz.
        num_frames: frames to produce; default ``round(N / 640)`` (``round(duration · 25)``).

    Returns:
        (T, 28, 12) float32.

    Raises:
        AvsError: audio shorter than one video frame.
    """
    if num_frames is None:
        num_frames = int(round(len(speech) / SAMPLES_PER_FRAME))
    if num_frames < 1:
        raise AvsError(f"audio of {len(speech) / SAMPLE_RATE:.3f} s is shorter than one video frame (40 ms)")
    return frame_windows(mfcc(speech, cfg), num_frames, cfg)
