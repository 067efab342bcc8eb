"""Speech2Gesture networks: the audio-to-pose generator and the PatchGAN motion discriminator.

Architecture facts from speech2gesture ``audio_to_multiple_pose_gan/static_model_factory.py``
(``audio_to_pose_gans``, ``D_patchgan``) and ``tf_layers.py`` (``ConvNormRelu``, ``UpSampling1D``):
convolutions pad like TensorFlow's ``"same"`` (asymmetric for even kernels on odd lengths), weights
are Glorot-uniform and biases zero. Tensors are batch first; internally channels first.

Deviations (documented): bilinear resizing uses half-pixel centres (PyTorch ``align_corners=False``)
where TF1's ``resize_bilinear`` used the legacy asymmetric mapping; batch norm uses PyTorch's
defaults (momentum 0.1, eps 1e-5) where TF used 0.99 decay / eps 1e-3, so that running statistics
settle within short runs.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from avs.api import AvsError
from avs_s2g.data import FRAME_MULTIPLE
from avs_s2g.skeleton import NON_NECK_FLAT, POSE_DIM

NORMS = ("batch", "instance", "group")
UNET_DEPTH = 5
"""Downsampling blocks of the 1-D U-Net; pose lengths must be multiples of ``2**UNET_DEPTH`` = 32."""
assert FRAME_MULTIPLE == 2**UNET_DEPTH


def _same_pad(length: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow ``"same"`` padding (left, right) of one axis: output length ceil(length / stride)."""
    out = math.ceil(length / stride)
    total = max((out - 1) * stride + kernel - length, 0)
    return total // 2, total - total // 2


def static_same_pad(kernel: int, stride: int) -> tuple[int, int] | None:
    """A padding of one axis that gives TensorFlow ``"same"``'s output for every input length, or None.

    TF's left pad depends on ``length mod stride`` in general; when it does not (kernel 3 stride 1,
    kernel 4 stride 2: always 1), padding ``(left, kernel − 1 − left)`` yields the same windows at the
    same offsets and ``ceil(length / stride)`` outputs: the right pad may be one sample longer than TF's,
    but no window reaches it. Constant pads keep the network traceable for any length (ONNX export).
    """
    if kernel < stride:
        return None
    lefts = {_same_pad(length, kernel, stride)[0] for length in range(kernel * stride, kernel * stride + stride)}
    if len(lefts) != 1:
        return None
    left = lefts.pop()
    return left, kernel - 1 - left


class _Norm(nn.Module):
    """Norm as speech2gesture ``tf_layers.Norm``: batch, instance (no affine), group (G=min(32, C))."""

    def __init__(self, kind: str, channels: int, dims: int) -> None:
        super().__init__()
        if kind == "batch":
            self.norm: nn.Module = nn.BatchNorm1d(channels) if dims == 1 else nn.BatchNorm2d(channels)
        elif kind == "instance":
            self.norm = nn.InstanceNorm1d(channels) if dims == 1 else nn.InstanceNorm2d(channels)
        elif kind == "group":
            self.norm = nn.GroupNorm(min(32, channels), channels)
        else:
            raise ValueError(f"unknown norm {kind!r} (known: {', '.join(NORMS)})")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(x)


class ConvNormLReLU(nn.Module):
    """conv (TF-"same" or valid padding) → norm → LeakyReLU(0.2); speech2gesture ``tf_layers.ConvNormRelu``.

    Default kernel 3 stride 1, or kernel 4 stride 2 with ``downsample=True``.
    Input/output (B, C, L) for ``dims=1`` or (B, C, H, W) for ``dims=2``.
    """

    def __init__(self, in_ch: int, out_ch: int, dims: int, norm: str, downsample: bool = False,
                 kernel: int | tuple[int, int] | None = None, padding: str = "same") -> None:
        super().__init__()
        k = kernel if kernel is not None else (4 if downsample else 3)
        self.kernel: tuple[int, ...] = tuple(k) if isinstance(k, tuple) else (k,) * dims
        self.stride = 2 if downsample else 1
        self.padding = padding
        # per axis, last axis first (F.pad's order); None where TF's padding depends on the length
        static = [static_same_pad(size, self.stride) for size in reversed(self.kernel)]
        self.static_pad: list[int] | None = None if None in static else [p for lr in static for p in lr]
        conv = nn.Conv1d if dims == 1 else nn.Conv2d
        self.conv = conv(in_ch, out_ch, self.kernel, stride=self.stride)
        self.norm = _Norm(norm, out_ch, dims)
        self.act = nn.LeakyReLU(0.2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.padding == "same" and self.static_pad is not None:
            x = F.pad(x, self.static_pad)
        elif self.padding == "same":
            pads: list[int] = []
            for axis, k in zip(reversed(range(2, x.dim())), reversed(self.kernel), strict=True):
                pads.extend(_same_pad(x.shape[axis], k, self.stride))
            x = F.pad(x, pads)
        return self.act(self.norm(self.conv(x)))


def _init_glorot(module: nn.Module) -> None:
    for m in module.modules():
        if isinstance(m, (nn.Conv1d, nn.Conv2d)):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)


def _check_model_cfg(model_cfg: Any) -> None:
    """Raise :class:`AvsError` for options a user can get wrong (``model.*`` overrides)."""
    if model_cfg.norm not in NORMS:
        raise AvsError(f"model.norm must be one of {', '.join(NORMS)}, got {model_cfg.norm!r}")
    if model_cfg.width < 4 or model_cfg.width % 4:
        raise AvsError(f"model.width must be a positive multiple of 4, got {model_cfg.width}")
    if model_cfg.d_width < 1:
        raise AvsError(f"model.d_width must be positive, got {model_cfg.d_width}")


class AudioToPoseGenerator(nn.Module):
    """Log-mel spectrogram → normalised pose sequence (speech2gesture ``audio_to_pose_gans``).

    - 2-D audio encoder over (T_mel, 64 mel): blocks [c, c↓], [2c, 2c↓], [4c, 4c↓], [4c, 4c with
      kernel (3, 8) valid], c = width/4, collapsing the mel axis to 1 (T_mel=418 → 51 steps);
      bilinear resize in time to the pose length.
    - 1-D U-Net of width channels: two blocks, five downsampling blocks; going up, nearest
      upsampling ×2, add the skip, one block.
    - Decoder: four blocks, then a 1×1 conv to 98 values, linear output.

    Args:
        model_cfg: :class:`avs_s2g.config.ModelConfig` (``width``, ``norm``).

    Raises:
        AvsError: for an unknown norm or a width that is not a positive multiple of 4.
    """

    def __init__(self, model_cfg: Any) -> None:
        super().__init__()
        _check_model_cfg(model_cfg)
        w, norm = int(model_cfg.width), str(model_cfg.norm)
        c = w // 4

        def b2(i: int, o: int, **kw: Any) -> ConvNormLReLU:
            return ConvNormLReLU(i, o, 2, norm, **kw)

        def b1(i: int, o: int, **kw: Any) -> ConvNormLReLU:
            return ConvNormLReLU(i, o, 1, norm, **kw)

        self.audio_encoder = nn.Sequential(
            b2(1, c), b2(c, c, downsample=True),
            b2(c, 2 * c), b2(2 * c, 2 * c, downsample=True),
            b2(2 * c, 4 * c), b2(4 * c, 4 * c, downsample=True),
            b2(4 * c, w), b2(w, w, kernel=(3, 8), padding="valid"),
        )
        self.unet_in = nn.Sequential(b1(w, w), b1(w, w))
        self.down = nn.ModuleList(b1(w, w, downsample=True) for _ in range(UNET_DEPTH))
        self.up = nn.ModuleList(b1(w, w) for _ in range(UNET_DEPTH))
        self.decoder = nn.Sequential(*(b1(w, w) for _ in range(4)))
        self.logits = nn.Conv1d(w, POSE_DIM, kernel_size=1)
        _init_glorot(self)

    def forward(self, mel: torch.Tensor, num_frames: int | torch.Tensor) -> torch.Tensor:
        """Predict poses.

        Args:
            mel: (B, T_mel, 64) float32 log-mel (``avs.audio.log_mel``; 418 frames for a 64-frame window).
            num_frames: pose frames to produce at 15 fps; a multiple of 32 (a 0-d int64 tensor when
                traced for ONNX export, so that the graph takes any length; then not checked).

        Returns:
            (B, num_frames, 98) float32 normalised neck-relative pose ``[x0..x48, y0..y48]``.

        Raises:
            ValueError: if ``num_frames`` is not a positive multiple of 32, or ``mel`` is not (B, T, 64)
                with T large enough for the encoder (T_mel ≥ 17).
        """
        if isinstance(num_frames, int) and (num_frames <= 0 or num_frames % FRAME_MULTIPLE):
            raise ValueError(f"num_frames must be a positive multiple of {FRAME_MULTIPLE}, got {num_frames}")
        if mel.dim() != 3 or mel.shape[-1] != 64:
            raise ValueError(f"mel must be (B, T, 64), got {tuple(mel.shape)}")
        if mel.shape[1] < 17:
            raise ValueError(f"mel needs at least 17 frames, got {mel.shape[1]}")
        x = self.audio_encoder(mel.unsqueeze(1))  # (B, w, T_mel/8 - 2, 1)
        x = F.interpolate(x, size=(num_frames, 1), mode="bilinear", align_corners=False)
        x = self.unet_in(x.squeeze(-1))  # (B, w, num_frames)
        skips = [x]
        for block in self.down:
            skips.append(block(skips[-1]))
        x = skips.pop()
        for block in self.up:
            x = block(F.interpolate(x, scale_factor=2, mode="nearest") + skips.pop())
        x = self.logits(self.decoder(x))
        return x.transpose(1, 2)


def pose_to_motion(pose: torch.Tensor) -> torch.Tensor:
    """Frame differences of the 48 non-neck keypoints (speech2gesture ``tf_layers.to_motion_delta``).

    Args:
        pose: (B, T, 98) normalised poses.

    Returns:
        (B, T-1, 96) differences ``[x1..x48, y1..y48]`` between consecutive frames.
    """
    sel = pose[..., list(NON_NECK_FLAT)]
    return sel[:, 1:] - sel[:, :-1]


class PatchGANDiscriminator(nn.Module):
    """Motion PatchGAN (speech2gesture ``D_patchgan``, ``d_input='motion'``, two downsamplings).

    conv1d d k4 s2 + LeakyReLU → block 2d k4 s2 → block 4d k4 s1 → conv1d 1 k4, d = ``d_width``;
    all TF-"same" padded. A 64-frame window (63 differences) gives 16 patch scores.

    Args:
        model_cfg: :class:`avs_s2g.config.ModelConfig` (``d_width``, ``norm``).
    """

    def __init__(self, model_cfg: Any) -> None:
        super().__init__()
        _check_model_cfg(model_cfg)
        d, norm = int(model_cfg.d_width), str(model_cfg.norm)
        in_ch = len(NON_NECK_FLAT)
        self.first = nn.Conv1d(in_ch, d, kernel_size=4, stride=2)
        self.act = nn.LeakyReLU(0.2)
        self.blocks = nn.Sequential(
            ConvNormLReLU(d, 2 * d, 1, norm, downsample=True),
            ConvNormLReLU(2 * d, 4 * d, 1, norm, kernel=4),
        )
        self.last = nn.Conv1d(4 * d, 1, kernel_size=4)
        _init_glorot(self)

    @staticmethod
    def num_patches(num_frames: int) -> int:
        """Patch scores for a window of ``num_frames`` poses: ceil(ceil((T-1)/2)/2)."""
        return math.ceil(math.ceil((num_frames - 1) / 2) / 2)

    def forward(self, pose: torch.Tensor) -> torch.Tensor:
        """Score a pose sequence.

        Args:
            pose: (B, T, 98) normalised poses, T ≥ 2.

        Returns:
            (B, P) patch scores (LSGAN targets: 1 real, 0 fake), P = :meth:`num_patches` (16 for T=64).

        Raises:
            ValueError: for a shape other than (B, T ≥ 2, 98).
        """
        if pose.dim() != 3 or pose.shape[-1] != POSE_DIM or pose.shape[1] < 2:
            raise ValueError(f"pose must be (B, T>=2, {POSE_DIM}), got {tuple(pose.shape)}")
        x = pose_to_motion(pose).transpose(1, 2)  # (B, 96, T-1)
        x = self.act(self.first(F.pad(x, _same_pad(x.shape[-1], 4, 2))))
        x = self.blocks(x)
        x = self.last(F.pad(x, _same_pad(x.shape[-1], 4, 1)))
        return x.squeeze(1)


def build_generator(cfg: Any) -> AudioToPoseGenerator:
    """``cfg -> Generator``: the generator for ``cfg.model`` (an :class:`avs_s2g.config.S2GConfig`)."""
    return AudioToPoseGenerator(cfg.model)


def build_discriminator(cfg: Any) -> PatchGANDiscriminator:
    """``cfg -> Discriminator``: the PatchGAN discriminator for ``cfg.model``."""
    return PatchGANDiscriminator(cfg.model)
