"""Speech → 68-landmark displacements at 25 fps: the landmark sequence that drives the animation.

RD-GAN animates from a landmark sequence and has no audio model. Ours (not the paper's) is deliberately small,
because the prepared training data is tiny (the five sample clips: 36 s of training frames, five speakers):

1. **features**: log-mel (``avs.audio.log_mel``: 64 bands, 100 frames/s), standardised per band with the
   training split's mean and std, averaged to 25 frames/s (4 mel frames per video frame), stacked over a
   centred context of ``2 · context + 1`` video frames (edge-padded): (T, (2c + 1) · 64);
2. **mouth opening**: a linear (ridge) regression of those features to the inner-lip opening (landmark 66 y
   minus 62 y, in 128-px own-box crop pixels), fitted in closed form on the training split
   (:func:`fit_opening_model`), its ridge strength chosen on the dev split's landmark L1;
3. **displacements**: opening × a fixed mouth pattern (68, 2) — the least-squares displacement of every
   landmark per pixel of opening over the training frames (lower lip and chin down, upper lip up) — divided by
   128 (face-box units).

Both the features and the opening are **centred over the utterance** (each sequence's mean removed): the
photo is taken to show the speaker's average shape, and the mouth opens and closes around it. Motion that
audio cannot predict (head pose, blinks, brows) is not produced. An earlier version (1-D convs + BiLSTM to
all 136 coordinates, trained by gradient on 32-frame windows) over-fitted the five clips and was worse than no
motion on held-out frames (2.39 px against 1.61 px); the plugin README has the comparison.

Displacements are in face-box units: landmarks normalised to their own 128×128 box crop
(:func:`avs_rdgan.crop.normalise_landmarks`) minus the clip's mean normalised shape, divided by 128.
At prediction they are added to the photo's normalised landmarks.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from avs.api import AvsError

MEL_PER_FRAME = 4
"""Log-mel frames (100/s) per video frame (25/s)."""
UPPER_LIP, LOWER_LIP = 62, 66
"""Inner-lip landmarks (dlib 68-point layout) whose vertical distance is the mouth opening."""


def mel_for_frames(audio: np.ndarray, num_frames: int, sample_rate: int = 16000, n_mels: int = 64) -> np.ndarray:
    """Log-mel of ``audio`` cut or edge-padded to exactly ``4 · num_frames`` frames.

    Args:
        audio: (N,) float32 mono at ``sample_rate`` Hz.
        num_frames: video frames at 25 fps the features must cover.

    Returns:
        (4 · num_frames, n_mels) float32.

    Raises:
        AvsError: empty or non-finite audio (from ``log_mel``).
    """
    from avs.api import log_mel

    mel = log_mel(audio, sample_rate=sample_rate, n_mels=n_mels)
    want = MEL_PER_FRAME * num_frames
    if mel.shape[0] >= want:
        return mel[:want]
    return np.pad(mel, ((0, want - mel.shape[0]), (0, 0)), mode="edge")


def mouth_opening(disp: np.ndarray) -> np.ndarray:
    """Inner-lip opening of landmarks or displacements (..., 68, 2): y of 66 minus y of 62 (same units)."""
    return disp[..., LOWER_LIP, 1] - disp[..., UPPER_LIP, 1]


class AudioToLandmarks(nn.Module):
    """Log-mel (B, 4T, M) → landmark displacements (B, T, 68, 2), through a linear mouth-opening model.

    Holds buffers only (fitted in closed form by :func:`fit_opening_model`, saved with the weights):
    ``mel_mean``, ``mel_std`` (M,) the training split's per-band log-mel statistics; ``weight``
    ((2c + 1) · M,) ridge weights (crop pixels of opening per standardised feature); ``pattern`` (68, 2)
    crop pixels of displacement per pixel of opening. Untrained (zeros), it predicts no motion.

    Args:
        n_mels: log-mel bands.
        context: video frames of context on each side.
    """

    def __init__(self, n_mels: int = 64, context: int = 4) -> None:
        super().__init__()
        self.context = int(context)
        self.register_buffer("mel_mean", torch.zeros(n_mels))
        self.register_buffer("mel_std", torch.ones(n_mels))
        self.register_buffer("weight", torch.zeros((2 * self.context + 1) * n_mels))
        self.register_buffer("pattern", torch.zeros(68, 2))

    def features(self, mel: torch.Tensor) -> torch.Tensor:
        """(B, 4T, M) log-mel → (B, T, (2c + 1) · M) standardised context features (feature ``i · M + m`` is
        band m of frame t + i − c)."""
        if mel.ndim != 3 or mel.shape[1] % MEL_PER_FRAME or mel.shape[1] == 0:
            raise AvsError(f"log-mel must be (B, 4T, bands) with T >= 1, got {tuple(mel.shape)}")
        b, n, m = mel.shape
        x = ((mel - self.mel_mean) / self.mel_std).view(b, n // MEL_PER_FRAME, MEL_PER_FRAME, m).mean(2)
        c = self.context
        x = F.pad(x.transpose(1, 2), (c, c), mode="replicate")  # (B, M, T + 2c)
        x = x.unfold(2, 2 * c + 1, 1)  # (B, M, T, 2c + 1)
        return x.permute(0, 2, 3, 1).reshape(b, n // MEL_PER_FRAME, (2 * c + 1) * m)

    def opening(self, mel: torch.Tensor) -> torch.Tensor:
        """(B, 4T, M) → (B, T) mouth opening in crop pixels, centred over each sequence."""
        x = self.features(mel)
        x = x - x.mean(1, keepdim=True)
        return x @ self.weight

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        return self.opening(mel)[..., None, None] * self.pattern / 128.0


def build_audio_model(cfg) -> AudioToLandmarks:
    """The audio→landmark model from ``cfg.model``."""
    return AudioToLandmarks(int(cfg.model.mel_bands), int(cfg.model.a2l_context))


def _clip_features(model: AudioToLandmarks, clip) -> tuple[np.ndarray, np.ndarray]:
    """Centred features (V, F) and centred displacements (V, 68, 2) in crop px of a clip's valid frames."""
    with torch.no_grad():
        x = model.features(torch.from_numpy(np.ascontiguousarray(clip.mel, np.float32))[None])[0].numpy()
    v = np.asarray(clip.valid, bool)
    x = x[v].astype(np.float64)
    d = np.asarray(clip.disp, np.float64)[v] * 128.0
    return x - x.mean(0), d - d.mean(0)


def fit_opening_model(train_clips: Sequence, dev_clips: Sequence = (), n_mels: int = 64, context: int = 4,
                      lambdas: Sequence[float] = (1.0, 3.0, 10.0, 30.0, 100.0),
                      mel_stats: dict | None = None) -> dict[str, np.ndarray]:
    """Fit the mouth pattern and the ridge weights of :class:`AudioToLandmarks` in closed form.

    Args:
        train_clips: clips with ``mel`` (4T, M), ``disp`` (T, 68, 2) face-box units, ``valid`` (T,);
            clips without audio (``mel`` None) or with fewer than 2 valid frames are skipped.
        dev_clips: held-out clips of the same kind: the ridge strength with the lowest mean landmark L1 on
            them is kept (none: the middle of ``lambdas``).
        context: video frames of context on each side.
        lambdas: ridge strengths per training frame (the penalty is ``λ · frames · |w|²``).
        mel_stats: ``mel_mean``, ``mel_std`` of the training split (default: zeros and ones).

    Returns:
        Stats ``a2l_weight`` ((2c + 1) · M,), ``a2l_pattern`` (68, 2), ``a2l_lambda`` (1,) float32
        (zeros when no training clip has audio: the model then predicts no motion).
    """
    model = AudioToLandmarks(n_mels, context)
    if mel_stats:
        model.mel_mean.copy_(torch.as_tensor(np.asarray(mel_stats["mel_mean"], np.float32)))
        model.mel_std.copy_(torch.as_tensor(np.asarray(mel_stats["mel_std"], np.float32)))
    dim = (2 * context + 1) * n_mels
    lams = [float(v) for v in lambdas] or [10.0]
    empty = {"a2l_weight": np.zeros(dim, np.float32), "a2l_pattern": np.zeros((68, 2), np.float32),
             "a2l_lambda": np.zeros(1, np.float32)}
    pairs = [_clip_features(model, c) for c in train_clips if c.mel is not None and int(np.sum(c.valid)) > 1]
    if not pairs:
        return empty
    x = np.concatenate([p[0] for p in pairs])
    d = np.concatenate([p[1] for p in pairs])
    o = mouth_opening(d)
    if not (o @ o) > 0:
        return empty
    pattern = np.einsum("t,tkj->kj", o, d) / (o @ o)  # least-squares displacement per px of opening
    gram, rhs = x.T @ x, x.T @ o
    weights = {lam: np.linalg.solve(gram + lam * len(x) * np.eye(dim), rhs) for lam in lams}
    dev = [_clip_features(model, c) for c in dev_clips if c.mel is not None and int(np.sum(c.valid)) > 1]
    if dev:
        def dev_l1(w: np.ndarray) -> float:
            return float(np.mean([np.abs((xd @ w)[:, None, None] * pattern - dd).mean() for xd, dd in dev]))
        best = min(lams, key=lambda lam: dev_l1(weights[lam]))
    else:
        best = lams[len(lams) // 2]
    return {"a2l_weight": weights[best].astype(np.float32), "a2l_pattern": pattern.astype(np.float32),
            "a2l_lambda": np.array([best], np.float32)}


def load_fitted(model: AudioToLandmarks, stats: dict) -> None:
    """Copy fitted stats (``mel_mean``, ``mel_std``, ``a2l_weight``, ``a2l_pattern``) into ``model``'s buffers
    where present with the right shapes."""
    for key, buf in (("mel_mean", model.mel_mean), ("mel_std", model.mel_std), ("a2l_weight", model.weight),
                     ("a2l_pattern", model.pattern)):
        if key in stats and np.asarray(stats[key]).shape == tuple(buf.shape):
            buf.copy_(torch.as_tensor(np.asarray(stats[key], np.float32)))


@torch.no_grad()
def predict_displacements(model: AudioToLandmarks, audio: np.ndarray, num_frames: int,
                          sample_rate: int = 16000, smooth: int = 1) -> np.ndarray:
    """Displacements of every video frame of ``audio``.

    Args:
        model: a fitted :class:`AudioToLandmarks`.
        audio: (N,) float32 at ``sample_rate``.
        num_frames: output frames (``round(duration · 25)``).
        smooth: frames of a centred moving average (1 = none; edge-padded).

    Returns:
        (num_frames, 68, 2) float32 displacements in face-box units (÷ 128 px), centred over the utterance.
    """
    model.eval()
    device = model.weight.device
    mel = mel_for_frames(audio, num_frames, sample_rate, model.mel_mean.numel())
    disp = model(torch.from_numpy(mel)[None].to(device))[0].cpu().numpy()
    if smooth > 1 and num_frames > 1:
        k = int(smooth)
        pad = np.pad(disp, ((k // 2, k - 1 - k // 2), (0, 0), (0, 0)), mode="edge")
        disp = np.stack([pad[i:i + num_frames] for i in range(k)]).mean(0)
    return disp.astype(np.float32)
