"""SDT networks: the audio-to-pose generator, the pose-sequence discriminator and the pose VAE.

Architecture facts from SpeechDrivesTemplates ``core/networks/building_blocks.py``
(``ConvNormRelu``), ``keypoints_generation/generator.py`` (``SequenceGeneratorCNN``),
``keypoints_generation/discriminator.py`` (``PoseSequenceDiscriminator``) and
``poses_reconstruction/autoencoder.py`` (``Autoencoder``). Submodule names follow the reference,
so its state dicts map onto ours by stripping prefixes (:mod:`avs_sdt.importer`).

Every block is conv (no bias, Kaiming-normal weights) → norm → LeakyReLU(0.2); a downsampling
block is kernel 4 stride 2 padding 1, otherwise kernel 3 stride 1 padding 1. Norm is batch norm,
or "instance" norm, which for 1-D features normalises over the channels at each time step (the
reference permutes before ``InstanceNorm1d``) and for the 2-D audio encoder is ordinary
``InstanceNorm2d``. Tensors are batch first; poses are flat (B, T, 242) ``[x0..x120, y0..y120]``.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from avs.api import AvsError
from avs_sdt.config import check_variant, resolve_norm
from avs_sdt.keypoints import POSE_DIM

UNET_DEPTH = 5
"""Downsampling blocks of the 1-D U-Net (and of the pose encoder)."""
MIN_FRAMES = 2**UNET_DEPTH
"""Shortest pose sequence the generator accepts (32 frames: five halvings leave one step)."""
VAE_FRAMES = 64
"""The pose VAE's decoder always produces 64 frames (2 · 2⁵)."""
N_MELS = 80


class ChannelNorm(nn.Module):
    """Instance norm of 1-D features over the channels at each time step, no affine parameters.

    Equals the reference's ``InstanceNorm1d`` applied to the (B, T, C) permutation: for every
    (b, t), ``(x − mean_C) / sqrt(var_C + 1e-5)`` with the biased variance.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.layer_norm(x.transpose(1, 2), (x.shape[1],), eps=1e-5).transpose(1, 2)


class ConvNormRelu(nn.Module):
    """conv → norm → LeakyReLU(0.2), SDT ``building_blocks.ConvNormRelu``.

    Args:
        dims: 1 (input (B, C, T)) or 2 (input (B, C, H, W)).
        in_ch, out_ch: channels.
        norm: ``batch`` or ``instance``.
        downsample: kernel 4 stride 2 padding 1 (else kernel 3 stride 1 padding 1).
        kernel, padding: explicit kernel (int or (h, w)) and padding, stride 1.
    """

    def __init__(self, dims: int, in_ch: int, out_ch: int, norm: str, downsample: bool = False,
                 kernel: int | tuple[int, int] | None = None, padding: int = 0) -> None:
        super().__init__()
        if kernel is None:
            k, s, p = (4, 2, 1) if downsample else (3, 1, 1)
        else:
            k, s, p = kernel, 1, padding
        conv = nn.Conv1d if dims == 1 else nn.Conv2d
        self.conv = conv(in_ch, out_ch, k, s, p, bias=False)
        if norm == "batch":
            self.norm: nn.Module = nn.BatchNorm1d(out_ch) if dims == 1 else nn.BatchNorm2d(out_ch)
        elif norm == "instance":
            self.norm = ChannelNorm() if dims == 1 else nn.InstanceNorm2d(out_ch)
        else:
            raise ValueError(f"unknown norm {norm!r}")
        nn.init.kaiming_normal_(self.conv.weight)
        # out of place: an in-place activation would write into the view instance norm returns, and autograd
        # would then keep a copy of the whole activation for backward (bench_sdt_step.py: fewer CPU seconds
        # per training step, bit-identical results)
        self.act = nn.LeakyReLU(0.2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.norm(self.conv(x)))


def _check_width(width: int, what: str = "model.width") -> int:
    width = int(width)
    if width < 4 or width % 4:
        raise AvsError(f"{what} must be a positive multiple of 4, got {width}")
    return width


class AudioEncoder(nn.Module):
    """Mel spectrogram → (B, width, T) features (SDT ``generator.AudioEncoder``).

    Four 2-D stages over (80 mels, T_mel): [c, c↓], [2c, 2c↓], [4c, 4c↓], [4c, 4c with kernel (6, 3)
    and no padding], c = width/4; (80, 427) → (5, 51); then bilinear resampling (PyTorch's
    default half-pixel centres, as the reference) to (1, num_frames).
    """

    def __init__(self, width: int, norm: str) -> None:
        super().__init__()
        c = width // 4
        chans = [(1, c), (c, 2 * c), (2 * c, width), (width, width)]
        stages = []
        for i, (cin, cout) in enumerate(chans):
            last = (ConvNormRelu(2, cout, cout, norm, kernel=(6, 3), padding=0) if i == 3
                    else ConvNormRelu(2, cout, cout, norm, downsample=True))
            stages.append(nn.Sequential(ConvNormRelu(2, cin, cout, norm), last))
        self.specgram_encoder_2d = nn.Sequential(*stages)

    def forward(self, mel: torch.Tensor, num_frames: int) -> torch.Tensor:
        x = self.specgram_encoder_2d(mel.unsqueeze(1))
        x = F.interpolate(x, (1, num_frames), mode="bilinear", align_corners=False)
        return x.squeeze(2)


class UNet1D(nn.Module):
    """1-D U-Net (SDT ``generator.UNet_1D``): e0, e1 at full rate, e2–e6 halving; going up, linear
    interpolation to the skip's length, add the skip, one block (d5 … d1)."""

    def __init__(self, in_ch: int, width: int, norm: str) -> None:
        super().__init__()
        self.e0 = ConvNormRelu(1, in_ch, width, norm)
        self.e1 = ConvNormRelu(1, width, width, norm)
        for i in range(2, 7):
            setattr(self, f"e{i}", ConvNormRelu(1, width, width, norm, downsample=True))
        for i in range(5, 0, -1):
            setattr(self, f"d{i}", ConvNormRelu(1, width, width, norm))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        e = [self.e0(x)]
        for i in range(1, 7):
            e.append(getattr(self, f"e{i}")(e[-1]))
        x = e[6]
        for i in range(5, 0, -1):
            x = getattr(self, f"d{i}")(F.interpolate(x, e[i].shape[-1], mode="linear", align_corners=False) + e[i])
        return x


class SequenceGeneratorCNN(nn.Module):
    """Speech → normalised pose sequence, optionally conditioned on a template code.

    SDT ``generator.SequenceGeneratorCNN``: :class:`AudioEncoder` → (B, width, T); if templates
    are used the ``template_dim`` code is tiled over time and concatenated (288 channels at the
    paper size) → :class:`UNet1D` → four blocks → 1×1 conv to 242 (with bias) → (B, T, 242).

    The reference's ``CodeMapper`` (a branch fed with noise whose output is never used when a
    template is given) is left out. SDT-BP's template table lives here as ``templates``, an
    (num_templates, template_dim) parameter initialised to zeros: core's single Adam for the
    generator then updates it with the generator's learning rate and betas; since Adam is
    per-parameter this is the same update as the reference's separate template Adam (its
    ``LR_SCALING`` is 1).

    Args:
        width: see :class:`avs_sdt.config.ModelConfig`.
        norm: ``batch`` or ``instance``.
        template_dim: code length, or 0 for the s2g baseline (no template input).
        num_templates: rows of the learnable table (SDT-BP), 0 for none (SDT-VAE's templates
            are fixed and come with the batch).
    """

    def __init__(self, width: int, norm: str, template_dim: int = 0, num_templates: int = 0) -> None:
        super().__init__()
        width = _check_width(width)
        self.template_dim = int(template_dim)
        self.audio_encoder = AudioEncoder(width, norm)
        self.unet = UNet1D(width + self.template_dim, width, norm)
        self.decoder = nn.Sequential(*(ConvNormRelu(1, width, width, norm) for _ in range(4)),
                                     nn.Conv1d(width, POSE_DIM, kernel_size=1, bias=True))
        if num_templates:
            self.templates = nn.Parameter(torch.zeros(int(num_templates), self.template_dim))

    @property
    def num_templates(self) -> int:
        """Rows of the learnable template table (0 without one)."""
        table = getattr(self, "templates", None)
        return int(table.shape[0]) if table is not None else 0

    def forward(self, mel: torch.Tensor, num_frames: int, code: torch.Tensor | None = None) -> torch.Tensor:
        """Predict poses.

        Args:
            mel: (B, 80, T_mel) float32 mel power (:func:`avs_sdt.data.melspectrogram`; 427 frames
                for a 64-frame clip).
            num_frames: pose frames to produce at 15 fps (≥ 32; any length, not only multiples).
            code: (B, template_dim) template codes; required iff ``template_dim > 0``.

        Returns:
            (B, num_frames, 242) float32 normalised poses.

        Raises:
            ValueError: a bad mel shape, too few frames, or a missing/unexpected code.
        """
        if mel.dim() != 3 or mel.shape[1] != N_MELS or mel.shape[2] < 24:
            raise ValueError(f"mel must be (B, {N_MELS}, T_mel >= 24), got {tuple(mel.shape)}")
        if num_frames < MIN_FRAMES:
            raise ValueError(f"num_frames must be at least {MIN_FRAMES}, got {num_frames}")
        x = self.audio_encoder(mel, num_frames)
        if self.template_dim:
            if code is None or code.shape != (x.shape[0], self.template_dim):
                got = None if code is None else tuple(code.shape)
                raise ValueError(f"this generator needs a (B, {self.template_dim}) template code, got {got}")
            x = torch.cat([x, code[:, :, None].expand(-1, -1, num_frames)], dim=1)
        elif code is not None:
            raise ValueError("this generator (s2g baseline) takes no template code")
        x = self.decoder(self.unet(x))
        return x.transpose(1, 2)


class PoseSequenceDiscriminator(nn.Module):
    """Motion → patch scores (SDT ``discriminator.PoseSequenceDiscriminator``; s2g baseline only).

    block 242→d↓ → d→2d↓ → 2d→4d (k3) → conv1d 4d→1 (k3, bias); batch norm, LeakyReLU 0.2.

    Args:
        d_width: d (256 in the paper: 256, 512, 1024).
    """

    def __init__(self, d_width: int) -> None:
        super().__init__()
        d = int(d_width)
        if d < 1:
            raise AvsError(f"model.d_width must be positive, got {d}")
        self.seq = nn.Sequential(
            ConvNormRelu(1, POSE_DIM, d, "batch", downsample=True),
            ConvNormRelu(1, d, 2 * d, "batch", downsample=True),
            ConvNormRelu(1, 2 * d, 4 * d, "batch", kernel=3, padding=1),
            nn.Conv1d(4 * d, 1, kernel_size=3, stride=1, padding=1, bias=True),
        )

    def forward(self, motion: torch.Tensor) -> torch.Tensor:
        """Score motion.

        Args:
            motion: (B, T−1, 242) frame differences of normalised poses (:func:`pose_to_motion`).

        Returns:
            (B, P) patch scores, P = floor(floor((T−1)/2)/2) (15 for a 64-frame clip); LSGAN targets
            1 real, 0 fake.
        """
        if motion.dim() != 3 or motion.shape[-1] != POSE_DIM or motion.shape[1] < 4:
            raise ValueError(f"motion must be (B, L >= 4, {POSE_DIM}), got {tuple(motion.shape)}")
        return self.seq(motion.transpose(1, 2)).squeeze(1)


def pose_to_motion(pose: torch.Tensor) -> torch.Tensor:
    """(B, T, 242) poses → (B, T−1, 242) frame differences (the reference's ``MOTION: True``)."""
    return pose[:, 1:] - pose[:, :-1]


class PoseEncoder(nn.Module):
    """Pose sequence → (μ, log σ²), SDT ``autoencoder.Poses_Encoder``.

    Blocks 242→w, w, then five downsampling blocks (the last to 2·code_dim channels): 64 frames →
    2 steps; nearest resampling to one step (the first, as the reference's ``F.interpolate(x, 1)``);
    μ = channels 0::2, log σ² = channels 1::2.
    """

    def __init__(self, width: int, code_dim: int, norm: str) -> None:
        super().__init__()
        w = width
        self.blocks = nn.Sequential(
            ConvNormRelu(1, POSE_DIM, w, norm), ConvNormRelu(1, w, w, norm),
            *(ConvNormRelu(1, w, w, norm, downsample=True) for _ in range(4)),
            ConvNormRelu(1, w, 2 * code_dim, norm, downsample=True),
        )

    def forward(self, pose: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.blocks(pose.transpose(1, 2))
        x = F.interpolate(x, 1).squeeze(-1)
        return x[:, 0::2], x[:, 1::2]


class PoseDecoder(nn.Module):
    """Code → 64-frame pose sequence, SDT ``autoencoder.Poses_Decoder``.

    The code is repeated to 2 steps; five times: linear ×2 upsampling then a block (d5 … d1) → 64
    steps; four blocks and a 1×1 conv to 242 (with bias).
    """

    def __init__(self, width: int, code_dim: int, norm: str) -> None:
        super().__init__()
        w = width
        self.d5 = ConvNormRelu(1, code_dim, w, norm)
        for i in range(4, 0, -1):
            setattr(self, f"d{i}", ConvNormRelu(1, w, w, norm))
        self.blocks = nn.Sequential(*(ConvNormRelu(1, w, w, norm) for _ in range(4)),
                                    nn.Conv1d(w, POSE_DIM, kernel_size=1, bias=True))

    def forward(self, code: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(code.unsqueeze(-1), 2)
        for i in range(5, 0, -1):
            x = getattr(self, f"d{i}")(F.interpolate(x, x.shape[-1] * 2, mode="linear", align_corners=False))
        return self.blocks(x).transpose(1, 2)


class PoseVAE(nn.Module):
    """The pose sequence VAE (SDT pose2pose ``Autoencoder`` without audio): SDT-VAE's template
    source and FTD's feature extractor.

    Args:
        width: channels (256 in the paper).
        code_dim: latent size (32).
        norm: ``batch`` (the reference) or ``instance``.
    """

    def __init__(self, width: int, code_dim: int, norm: str) -> None:
        super().__init__()
        width = _check_width(width)
        self.code_dim = int(code_dim)
        self.encoder = PoseEncoder(width, self.code_dim, norm)
        self.decoder = PoseDecoder(width, self.code_dim, norm)

    def encode(self, pose: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, 64, 242) normalised poses → (μ, log σ²), each (B, code_dim).

        Raises:
            ValueError: a shape other than (B, 64, 242).
        """
        if pose.dim() != 3 or pose.shape[1:] != (VAE_FRAMES, POSE_DIM):
            raise ValueError(f"the pose VAE encodes (B, {VAE_FRAMES}, {POSE_DIM}) clips, got {tuple(pose.shape)}")
        return self.encoder(pose)

    def decode(self, code: torch.Tensor) -> torch.Tensor:
        """(B, code_dim) → (B, 64, 242) normalised poses."""
        return self.decoder(code)

    def forward(self, pose: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Reconstruct poses.

        In training mode the code is sampled, μ + exp(½ log σ²)·ε (the reparameterisation trick);
        in eval mode it is μ (the reference samples in both; eval is deterministic here).

        Returns:
            (reconstruction (B, 64, 242), μ (B, code_dim), log σ² (B, code_dim)).
        """
        mu, logvar = self.encode(pose)
        code = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu) if self.training else mu
        return self.decode(code), mu, logvar


def build_generator(cfg: Any) -> nn.Module:
    """``cfg -> Generator``: the network of ``cfg.variant``.

    ``s2g``: :class:`SequenceGeneratorCNN` without templates (batch norm); ``sdt-bp``: with a
    learnable table of ``cfg.model.num_templates`` codes; ``sdt-vae``: with a template input and
    no table; ``pose-vae``: :class:`PoseVAE`.

    Raises:
        AvsError: an unknown variant or norm, a bad width, or ``sdt-bp`` with ``num_templates`` 0.
    """
    variant = check_variant(cfg)
    norm = resolve_norm(cfg)
    m = cfg.model
    dim = int(m.template_dim)
    if variant in ("sdt-bp", "sdt-vae") and dim < 1:
        raise AvsError(f"model.template_dim must be positive, got {dim}")
    if variant == "pose-vae":
        return PoseVAE(int(m.width), dim, norm)
    if variant == "s2g":
        return SequenceGeneratorCNN(int(m.width), norm)
    if variant == "sdt-bp":
        if int(m.num_templates) < 1:
            raise AvsError("model.num_templates is 0: SDT-BP needs one template per training clip "
                           "(set from the data when training starts)")
        return SequenceGeneratorCNN(int(m.width), norm, dim, int(m.num_templates))
    return SequenceGeneratorCNN(int(m.width), norm, dim)


def build_discriminator(cfg: Any) -> nn.Module | None:
    """``cfg -> Discriminator``: :class:`PoseSequenceDiscriminator` for ``s2g``, None for the others."""
    if check_variant(cfg) != "s2g":
        return None
    return PoseSequenceDiscriminator(int(cfg.model.d_width))


def unwrap(module: Any) -> Any:
    """The module inside a DistributedDataParallel wrapper (or the module itself)."""
    return getattr(module, "module", module)
