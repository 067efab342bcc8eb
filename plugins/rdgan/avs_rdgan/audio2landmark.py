"""Speech → 68-landmark displacements at 25 fps: the landmark sequence that drives the animation.

RD-GAN animates from a landmark sequence and has no audio model; ours (not the paper's) is a small
1-D convolution + bidirectional LSTM over log-mel (``avs.audio.log_mel``: 64 bands, 100 frames/s, so
4 mel frames per video frame), in the spirit of ATVGnet's audio→landmark stage (Chen et al. 2019).

Displacements are in face-box units: landmarks normalised to their own 128×128 box crop
(:func:`avs_rdgan.crop.normalise_landmarks`) minus the clip's mean normalised shape, divided by 128.
At prediction they are added to the photo's normalised landmarks.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from avs.api import AvsError

MEL_PER_FRAME = 4
"""Log-mel frames (100/s) per video frame (25/s)."""


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


class AudioToLandmarks(nn.Module):
    """Log-mel (B, 4T, M) → landmark displacements (B, T, 68, 2).

    Two 1-D convs (kernel 5, ReLU) at 100 frames/s, a stride-4 conv down to 25 frames/s, a
    bidirectional LSTM, and a linear layer to 136 values. The log-mel is standardised with the
    training split's per-band mean and std (buffers ``mel_mean``, ``mel_std``, saved with the weights).

    Args:
        n_mels: log-mel bands.
        channels: conv channels.
        hidden: LSTM hidden size per direction.
    """

    def __init__(self, n_mels: int = 64, channels: int = 128, hidden: int = 128) -> None:
        super().__init__()
        self.register_buffer("mel_mean", torch.zeros(n_mels))
        self.register_buffer("mel_std", torch.ones(n_mels))
        self.conv = nn.Sequential(
            nn.Conv1d(n_mels, channels, 5, 1, 2), nn.ReLU(True),
            nn.Conv1d(channels, channels, 5, 1, 2), nn.ReLU(True),
            nn.Conv1d(channels, channels, MEL_PER_FRAME, MEL_PER_FRAME), nn.ReLU(True),
        )
        self.lstm = nn.LSTM(channels, hidden, batch_first=True, bidirectional=True)
        self.head = nn.Linear(2 * hidden, 68 * 2)

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        if mel.ndim != 3 or mel.shape[1] % MEL_PER_FRAME:
            raise AvsError(f"log-mel must be (B, 4T, bands), got {tuple(mel.shape)}")
        x = (mel - self.mel_mean) / self.mel_std
        x = self.conv(x.transpose(1, 2)).transpose(1, 2)  # (B, T, C)
        x, _ = self.lstm(x)
        return self.head(x).view(mel.shape[0], -1, 68, 2)


def build_audio_model(cfg) -> AudioToLandmarks:
    """The audio→landmark model from ``cfg.model``."""
    m = cfg.model
    return AudioToLandmarks(m.mel_bands, m.a2l_channels, m.a2l_hidden)


@torch.no_grad()
def predict_displacements(model: AudioToLandmarks, audio: np.ndarray, num_frames: int,
                          sample_rate: int = 16000, smooth: int = 1) -> np.ndarray:
    """Displacements of every video frame of ``audio``.

    Args:
        model: a trained :class:`AudioToLandmarks` (put in eval mode here).
        audio: (N,) float32 at ``sample_rate``.
        num_frames: output frames (``round(duration · 25)``).
        smooth: frames of a centred moving average (1 = none; edge-padded).

    Returns:
        (num_frames, 68, 2) float32 displacements in face-box units (÷ 128 px).
    """
    model.eval()
    device = next(model.parameters()).device
    mel = mel_for_frames(audio, num_frames, sample_rate, model.mel_mean.numel())
    disp = model(torch.from_numpy(mel)[None].to(device))[0].cpu().numpy()
    if smooth > 1 and num_frames > 1:
        k = int(smooth)
        pad = np.pad(disp, ((k // 2, k - 1 - k // 2), (0, 0), (0, 0)), mode="edge")
        disp = np.stack([pad[i:i + num_frames] for i in range(k)]).mean(0)
    return disp.astype(np.float32)
