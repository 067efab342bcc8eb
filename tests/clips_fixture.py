"""Deterministic gesture clips (with audio) for metric tests, optionally one rank's shard."""

from __future__ import annotations

import numpy as np

from avs.evaluation import GestureClips


def make_clips(rank: int = 0, world: int = 1, n: int = 8, t: int = 48, k: int = 6) -> GestureClips:
    """``n`` clips of moving keypoints with click-track audio; rank ``r`` of ``world`` gets clips r::world."""
    import librosa

    rng = np.random.default_rng(42)
    time = np.arange(t) / 15.0
    gt = np.empty((n, t, k, 2), np.float32)
    audio = np.empty((n, int(t / 15 * 16000)), np.float32)
    for i in range(n):
        phase = rng.uniform(0, 2 * np.pi, size=(k, 2))
        gt[i] = 100 + 30 * np.sin(2 * np.pi * 1.0 * time[:, None, None] + phase)
        clicks = np.sort(rng.uniform(0.2, time[-1] - 0.2, size=3))
        audio[i] = librosa.clicks(times=clicks, sr=16000, length=audio.shape[1])
    pred = gt + rng.normal(0, 5, size=gt.shape).astype(np.float32)
    sel = slice(rank, None, world)
    return GestureClips(pred=pred[sel], gt=gt[sel], fps=15.0, audio=audio[sel], sample_rate=16000,
                        scored=range(1, k), mean_pose=gt.mean(axis=(0, 1)),
                        features=lambda x: x.reshape(len(x), -1)[:, :8], feature_metric="fgd")
