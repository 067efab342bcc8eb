"""RD-GAN's networks: the seed GAN, the feature-preserving (fine) GAN, their critics, and the dual pair.

Source: Guo, Yan, Liu 2021, Sec. 2; shapes read from the reference AuroraWJJ/RD-GAN's bytecode
(``FaceModel`` and the feature-preserving model). All images are (B, 3, 128, 128) in [−1, 1]; edge maps
are (B, 3, 128, 128) in [−1, 1] (black −1, lines +1).

Choices the reference does not fix (README "Open choices"): 3×3 convolutions with padding 1, 2×2
max-pooling for "pool" (the edge encoder's first pool is the reference's 3×3 stride-4 max-pool), 4×4
stride-2 transposed convolutions with batch norm in the decoders, the critics' 4×4 kernels.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


def _ch(base: int, width: float) -> int:
    return max(4, int(round(base * width)))


def _conv(cin: int, cout: int, slope: float, bn: bool = False, stride: int = 1) -> list[nn.Module]:
    """Bias-free 3×3 conv [+ BN] + LeakyReLU(slope)."""
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, 3, stride, 1, bias=False)]
    if bn:
        layers.append(nn.BatchNorm2d(cout))
    layers.append(nn.LeakyReLU(slope, inplace=True))
    return layers


def _up(cin: int, cout: int) -> nn.Sequential:
    """Bias-free 4×4 stride-2 transposed conv (doubles the side) + BN + ReLU."""
    return nn.Sequential(nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(True))


def _out(cin: int) -> nn.Sequential:
    """Bias-free 4×4 stride-2 transposed conv to 3 channels + tanh."""
    return nn.Sequential(nn.ConvTranspose2d(cin, 3, 4, 2, 1, bias=False), nn.Tanh())


class SeedGenerator(nn.Module):
    """Seed GAN generator: face image + target edge map → coarse face with the target expression.

    Image encoder: [3→c, c→c, pool] (skip 64²), [c→2c, 2c→2c, pool] (skip 32²), dropout,
    [BN 2c→4c, 4c→4c, pool] (skip 16²), [BN 4c→8c, 8c→8c, pool] → 8²×8c (c = 32 at width 1).
    Edge encoder: [3→c, c→c, maxpool k3 s4] (32²), [c→2c, 2c→2c, pool] (16²×2c), [BN 2c→4c, 4c→4c s2] → 8²×4c.
    Decoder: concat (12c) → 16²×4c; + skip 16² + edge 16² → 32²×2c; + skip 32² → 64²×c; + skip 64² → 128²×3, tanh.
    LeakyReLU in the encoders, ReLU in the decoder; convolutions bias-free.

    Args:
        width: channel multiplier (1 = the reference's c = 32).
        dropout_keep: keep-probability of the encoder's dropout (reference 0.6).
        slope: LeakyReLU negative slope (reference 0.2).
    """

    def __init__(self, width: float = 1.0, dropout_keep: float = 0.6, slope: float = 0.2) -> None:
        super().__init__()
        c1, c2, c3, c4 = (_ch(b, width) for b in (32, 64, 128, 256))
        self.img1 = nn.Sequential(*_conv(3, c1, slope), *_conv(c1, c1, slope), nn.MaxPool2d(2))
        self.img2 = nn.Sequential(*_conv(c1, c2, slope), *_conv(c2, c2, slope), nn.MaxPool2d(2))
        self.dropout = nn.Dropout(1.0 - dropout_keep)
        self.img3 = nn.Sequential(*_conv(c2, c3, slope, bn=True), *_conv(c3, c3, slope, bn=True), nn.MaxPool2d(2))
        self.img4 = nn.Sequential(*_conv(c3, c4, slope, bn=True), *_conv(c4, c4, slope, bn=True), nn.MaxPool2d(2))
        self.edge1 = nn.Sequential(*_conv(3, c1, slope), *_conv(c1, c1, slope), nn.MaxPool2d(3, 4, 1))
        self.edge2 = nn.Sequential(*_conv(c1, c2, slope), *_conv(c2, c2, slope), nn.MaxPool2d(2))
        self.edge3 = nn.Sequential(*_conv(c2, c3, slope, bn=True), *_conv(c3, c3, slope, bn=True, stride=2))
        self.up1 = _up(c4 + c3, c3)  # 8² → 16²
        self.up2 = _up(c3 + c3 + c2, c2)  # 16² → 32²
        self.up3 = _up(c2 + c2, c1)  # 32² → 64²
        self.out = _out(c1 + c1)  # 64² → 128²

    def forward(self, image: torch.Tensor, edges: torch.Tensor) -> torch.Tensor:
        """(B, 3, 128, 128) face, (B, 3, 128, 128) target edge map → (B, 3, 128, 128) seed in [−1, 1]."""
        s64 = self.img1(image)
        s32 = self.dropout(self.img2(s64))
        s16 = self.img3(s32)
        z = self.img4(s16)
        e16 = self.edge2(self.edge1(edges))
        e8 = self.edge3(e16)
        x = self.up1(torch.cat([z, e8], 1))
        x = self.up2(torch.cat([x, s16, e16], 1))
        x = self.up3(torch.cat([x, s32], 1))
        return self.out(torch.cat([x, s64], 1))


class _FineEncoder(nn.Module):
    """conv c, c, pool; 2c, 2c, pool; BN 4c, 4c, pool → skips at 64², 32², 16²."""

    def __init__(self, c1: int, c2: int, c3: int, slope: float) -> None:
        super().__init__()
        self.b1 = nn.Sequential(*_conv(3, c1, slope), *_conv(c1, c1, slope), nn.MaxPool2d(2))
        self.b2 = nn.Sequential(*_conv(c1, c2, slope), *_conv(c2, c2, slope), nn.MaxPool2d(2))
        self.b3 = nn.Sequential(*_conv(c2, c3, slope, bn=True), *_conv(c3, c3, slope, bn=True), nn.MaxPool2d(2))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        s64 = self.b1(x)
        s32 = self.b2(s64)
        return s64, s32, self.b3(s32)


class FineGenerator(nn.Module):
    """Feature-preserving GAN generator: seed + original face → frame keeping the face's identity detail.

    Two encoders (original face; seed), each [c, c, pool], [2c, 2c, pool], [BN 4c, 4c, pool]; a U-Net
    decoder over both encoders' skips: concat 16² (8c) → 32²×2c; + both 32² skips → 64²×c; + both 64²
    skips → 128²×3, tanh.

    Args:
        width: channel multiplier (1 = c = 32).
        slope: LeakyReLU negative slope of the encoders.
    """

    def __init__(self, width: float = 1.0, slope: float = 0.2) -> None:
        super().__init__()
        c1, c2, c3 = (_ch(b, width) for b in (32, 64, 128))
        self.face_encoder = _FineEncoder(c1, c2, c3, slope)
        self.seed_encoder = _FineEncoder(c1, c2, c3, slope)
        self.up1 = _up(2 * c3, c2)  # 16² → 32²
        self.up2 = _up(c2 + 2 * c2, c1)  # 32² → 64²
        self.out = _out(c1 + 2 * c1)  # 64² → 128²

    def forward(self, seed: torch.Tensor, face: torch.Tensor) -> torch.Tensor:
        """(B, 3, 128, 128) seed, (B, 3, 128, 128) original face → (B, 3, 128, 128) frame in [−1, 1]."""
        f64, f32, f16 = self.face_encoder(face)
        s64, s32, s16 = self.seed_encoder(seed)
        x = self.up1(torch.cat([f16, s16], 1))
        x = self.up2(torch.cat([x, f32, s32], 1))
        return self.out(torch.cat([x, f64, s64], 1))


class SeedCritic(nn.Module):
    """Seed GAN discriminator: strided 4×4 convs 3→4c→8c→16c→16c (BN from the 2nd), FC → 1 logit.

    At width 1: 3→128→256→512→512 on 128² → 8²×512, then a linear layer. Returns (B,) logits.
    """

    def __init__(self, width: float = 1.0, slope: float = 0.2) -> None:
        super().__init__()
        chans = [3] + [_ch(b, width) for b in (128, 256, 512, 512)]
        layers: list[nn.Module] = []
        for i in range(4):
            layers.append(nn.Conv2d(chans[i], chans[i + 1], 4, 2, 1, bias=i == 0))
            if i > 0:
                layers.append(nn.BatchNorm2d(chans[i + 1]))
            layers.append(nn.LeakyReLU(slope, inplace=True))
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(chans[-1] * 8 * 8, 1)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(image).flatten(1)).squeeze(1)


class FineCritic(nn.Module):
    """Feature-preserving GAN discriminator: 7 convs + an FC real/fake head. Returns (B,) logits.

    Convs (4×4 for stride 2, 3×3 for stride 1), at width 1: 3→64 s2, 64→128 s2, 128→256 s2, 256→256,
    256→512 s2, 512→512, 512→512 s2 → 4²×512; BN from the 2nd. The reference's further FC heads are not
    recoverable; one real/fake head here.
    """

    def __init__(self, width: float = 1.0, slope: float = 0.2) -> None:
        super().__init__()
        spec = [(64, 2), (128, 2), (256, 2), (256, 1), (512, 2), (512, 1), (512, 2)]
        layers: list[nn.Module] = []
        cin = 3
        for i, (base, stride) in enumerate(spec):
            cout = _ch(base, width)
            k = 4 if stride == 2 else 3
            layers.append(nn.Conv2d(cin, cout, k, stride, 1, bias=i == 0))
            if i > 0:
                layers.append(nn.BatchNorm2d(cout))
            layers.append(nn.LeakyReLU(slope, inplace=True))
            cin = cout
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(cin * 4 * 4, 1)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(image).flatten(1)).squeeze(1)


class RDGenerator(nn.Module):
    """Both generators: ``G(face, edges) = fine(seed(face, edges), face)``.

    Args:
        width, dropout_keep, slope: see :class:`SeedGenerator`.
    """

    def __init__(self, width: float = 1.0, dropout_keep: float = 0.6, slope: float = 0.2) -> None:
        super().__init__()
        self.seed = SeedGenerator(width, dropout_keep, slope)
        self.fine = FineGenerator(width, slope)

    def forward(self, face: torch.Tensor, edges: torch.Tensor,
                original: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(seed, frame)``, both (B, 3, 128, 128) in [−1, 1].

        Args:
            face: (B, 3, 128, 128) the face the seed GAN starts from (the previous frame when recursive).
            edges: (B, 3, 128, 128) target edge map.
            original: the identity face the fine GAN keeps (default ``face``: the photo itself).
        """
        seed = self.seed(face, edges)
        return seed, self.fine(seed, face if original is None else original)


class SideCritic(nn.Module):
    """One side's critic of the dual model: a seed critic and a fine critic."""

    def __init__(self, width: float = 1.0, slope: float = 0.2) -> None:
        super().__init__()
        self.seed = SeedCritic(width, slope)
        self.fine = FineCritic(width, slope)


class DualCritics(nn.Module):
    """The two critics of the dual model: ``left`` judges frames of a pair's left image, ``right`` its right."""

    def __init__(self, width: float = 1.0, slope: float = 0.2) -> None:
        super().__init__()
        self.left = SideCritic(width, slope)
        self.right = SideCritic(width, slope)

    def forward(self, calls: Sequence[tuple[str, str, torch.Tensor]]) -> list[torch.Tensor]:
        """Run several critics in one call (what ``DistributedDataParallel`` needs to sync their gradients:
        it hooks ``forward``, not attribute access).

        Args:
            calls: ``(side, gan, images)`` with side ``left``/``right``, gan ``seed``/``fine`` and images
                (B, 3, 128, 128) in [−1, 1]; each runs separately (its own batch-norm statistics).

        Returns:
            The (B, 1) logits of each call, in order.
        """
        return [getattr(getattr(self, side), gan)(x) for side, gan, x in calls]


def build_generator(cfg) -> RDGenerator:
    """The generator pair from ``cfg.model``."""
    m = cfg.model
    return RDGenerator(m.width, m.dropout_keep, m.leaky_slope)


def build_critics(cfg) -> DualCritics:
    """The two critics from ``cfg.model``."""
    return DualCritics(cfg.model.width, cfg.model.leaky_slope)
