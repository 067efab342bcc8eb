"""PHADTF networks: ATC_net (audio → expression + pose) and the memory-augmented render-to-video GAN.

Facts from yiranran/Audio-driven-TalkingFace-HeadPose:
``Audio/code/models.py::ATC_net`` and ``ops.py::conv2d`` (conv3×3 without bias → BatchNorm → ReLU);
``render-to-video/models/networks.py::unet_generator_ac_adain`` (U-Net with AdaIN, RGB + mask heads),
``::NLayerDiscriminator`` (PatchGAN), ``::AdaptiveInstanceNorm2d``, ``::MLP``;
``render-to-video/models/memory_network.py::Memory_Network`` (keys, values, ages, hinge loss, update).

Changes, stated: identity values are the 128-d dlib face embedding (reference: ArcFace r100, 512-d), so the
AdaIN MLP reads 128 numbers; the memory query network's frozen backbone is dlib's face-recognition ResNet
(its 128-d descriptor of the render, precomputed by the data pipeline) where the reference used an
ImageNet ResNet-18 (no pretrained ResNet-18 weights exist offline); the trainable Linear → L2 norm on top is
the reference's. The U-Net depth is ``log2(image_size)`` so the bottleneck is 1×1 at any crop size.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from avs.api import AvsError
from avs_phadtf.config import AtcConfig, GanConfig

NUM_EXP = 64
NUM_POSE = 6
NUM_COEFFS = NUM_EXP + NUM_POSE
"""ATC_net's output: 64 expression coefficients, 3 Euler angles (radians), 3 translation values."""


def init_normal(module: nn.Module, std: float = 0.02) -> None:
    """The reference's ``init_weights('normal', 0.02)``: conv/linear weights N(0, std), biases 0,
    BatchNorm weights N(1, std)."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, std)
            nn.init.zeros_(m.bias)


def _conv_bn_relu(cin: int, cout: int) -> nn.Sequential:
    """``ops.conv2d(cin, cout, 3, 1, 1)``: Conv2d 3×3 pad 1 without bias, BatchNorm2d, ReLU."""
    return nn.Sequential(nn.Conv2d(cin, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(True))


class ATCNet(nn.Module):
    """ATC_net: per-frame MFCC window → conv encoder → FC → 3-layer LSTM → 70 coefficients.

    Shapes (paper widths): (B, T, 28, 12) → per frame (1, 28, 12) → conv 64, 128 → maxpool 3 stride (1, 2)
    → (26, 5) → conv 256, 256, 512 → maxpool 3 stride 2 → (512, 12, 2) = 12288 → FC 2048 → ReLU → FC 256 →
    ReLU → LSTM 256 × 3 layers (zero initial state) → Linear 256 → 70. Output (B, T, 70).
    Module names follow the reference (``audio_eocder``, ``audio_eocder_fc``, ``lstm``, ``lstm_fc``) so its
    state dicts map one to one.
    """

    def __init__(self, cfg: AtcConfig | None = None, window: tuple[int, int] = (28, 12)) -> None:
        super().__init__()
        cfg = cfg or AtcConfig()
        w = list(cfg.conv_widths)
        if len(w) != 5:
            raise AvsError(f"atc.conv_widths needs 5 values, got {w}")
        self.audio_eocder = nn.Sequential(
            _conv_bn_relu(1, w[0]), _conv_bn_relu(w[0], w[1]), nn.MaxPool2d(3, stride=(1, 2)),
            _conv_bn_relu(w[1], w[2]), _conv_bn_relu(w[2], w[3]), _conv_bn_relu(w[3], w[4]),
            nn.MaxPool2d(3, stride=(2, 2)),
        )
        h = ((window[0] - 3) // 1 + 1 - 3) // 2 + 1
        wd = ((window[1] - 3) // 2 + 1 - 3) // 2 + 1
        self.flat = w[4] * h * wd
        self.audio_eocder_fc = nn.Sequential(
            nn.Linear(self.flat, cfg.fc_hidden), nn.ReLU(True), nn.Linear(cfg.fc_hidden, cfg.hidden), nn.ReLU(True),
        )
        self.fc_dropout = nn.Dropout(cfg.dropout)  # no parameters: the state dict keeps the reference's names
        self.lstm = nn.LSTM(cfg.hidden, cfg.hidden, cfg.lstm_layers, batch_first=True)
        self.lstm_fc = nn.Sequential(nn.Linear(cfg.hidden, NUM_COEFFS))
        init_normal(self, cfg.init_std)

    def encode(self, mfcc: torch.Tensor) -> torch.Tensor:
        """(B, T, 28, 12) → (B, T, hidden) per-frame audio features (frames folded into the batch).

        ``atc.dropout`` (0 in the reference) acts on the FC encoder's input and output in training.
        """
        b, t = mfcc.shape[:2]
        x = self.audio_eocder(mfcc.reshape(b * t, 1, *mfcc.shape[2:]))
        x = self.audio_eocder_fc(self.fc_dropout(x.reshape(b * t, -1)))
        return self.fc_dropout(x).reshape(b, t, -1)

    def forward(self, mfcc: torch.Tensor) -> torch.Tensor:
        """(B, T, 28, 12) MFCC windows → (B, T, 70) coefficients (normalised space, see ``data.py``)."""
        if mfcc.dim() != 4:
            raise AvsError(f"ATC_net expects (B, T, 28, 12) MFCC windows, got {tuple(mfcc.shape)}")
        out, _ = self.lstm(self.encode(mfcc))
        return self.lstm_fc(out)


# ---------------------------------------------------------------------------------------------------- GAN
class AdaIN(nn.Module):
    """Adaptive instance norm (reference ``AdaptiveInstanceNorm2d``): per-sample, per-channel normalisation
    whose scale and shift come from the identity MLP. Input (B, C, H, W), params (B, 2C) = [shift, scale]."""

    def __init__(self, num_features: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.num_features = num_features
        self.eps = eps

    def forward(self, x: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
        shift, scale = params[:, : self.num_features], params[:, self.num_features:]
        x = F.instance_norm(x, eps=self.eps)
        return x * scale[:, :, None, None] + shift[:, :, None, None]


class _Down(nn.Module):
    """Encoder level: LeakyReLU(0.2) → Conv 4×4 stride 2 → AdaIN (reference ``unet_encoder_block``)."""

    def __init__(self, cin: int, cout: int, adain: bool = True) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 4, 2, 1)
        self.norm = AdaIN(cout) if adain else None

    def forward(self, x: torch.Tensor, params: list[torch.Tensor]) -> torch.Tensor:
        x = self.conv(F.leaky_relu(x, 0.2))
        return self.norm(x, params.pop(0)) if self.norm is not None else x


class _Up(nn.Module):
    """Decoder level: ReLU → ConvTranspose 4×4 stride 2 → AdaIN → Dropout (reference ``unet_decoder_block``)."""

    def __init__(self, cin: int, cout: int, dropout: bool) -> None:
        super().__init__()
        self.deconv = nn.ConvTranspose2d(cin, cout, 4, 2, 1)
        self.norm = AdaIN(cout)
        self.drop = nn.Dropout(0.5) if dropout else None

    def forward(self, x: torch.Tensor, params: list[torch.Tensor]) -> torch.Tensor:
        x = self.norm(self.deconv(F.relu(x)), params.pop(0))
        return self.drop(x) if self.drop is not None else x


class _Heads(nn.Module):
    """Last level (reference ``unet_decoder_ac_block``): ReLU → ConvTranspose → AdaIN → ReLU, then a 7×7 conv
    RGB head (tanh) and a 7×7 conv mask head (sigmoid)."""

    def __init__(self, cin: int, out_nc: int = 3) -> None:
        super().__init__()
        mid = cin // 2
        self.deconv = nn.ConvTranspose2d(cin, mid, 4, 2, 1)
        self.norm = AdaIN(mid)
        self.img_reg = nn.Conv2d(mid, out_nc, 7, 1, 3)
        self.attention_reg = nn.Conv2d(mid, 1, 7, 1, 3)

    def forward(self, x: torch.Tensor, params: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        f = F.relu(self.norm(self.deconv(F.relu(x)), params.pop(0)))
        return torch.tanh(self.img_reg(f)), torch.sigmoid(self.attention_reg(f))


class IdentityMLP(nn.Module):
    """identity (B, D) → all AdaIN parameters (B, P); ``mlp_layers`` Linear layers of width P with ReLU between
    (reference ``MLP(feat_dim, P, P, 3)``)."""

    def __init__(self, in_dim: int, out_dim: int, layers: int = 3) -> None:
        super().__init__()
        mods: list[nn.Module] = [nn.Linear(in_dim, out_dim), nn.ReLU(True)]
        for _ in range(layers - 2):
            mods += [nn.Linear(out_dim, out_dim), nn.ReLU(True)]
        mods.append(nn.Linear(out_dim, out_dim))
        self.model = nn.Sequential(*mods)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x.reshape(x.shape[0], -1))


class UNetAdaIN(nn.Module):
    """The render-to-video generator: ``levels``-level U-Net with AdaIN from an identity feature, RGB + mask.

    Input: (B, 3·window, S, S) stacked blended renders in [-1, 1] (S = 2**levels) and identity (B, D).
    Returns ``(color, mask)``: (B, 3, S, S) tanh and (B, 1, S, S) sigmoid; the frame is
    ``mask · render_t + (1 − mask) · color`` (:func:`compose`). Widths at level i: ngf·(1, 2, 4, 8, 8, ...);
    AdaIN in encoder levels 2..L-1 and every decoder level; dropout 0.5 in the first three decoder levels.
    """

    def __init__(self, cfg: GanConfig | None = None) -> None:
        super().__init__()
        cfg = cfg or GanConfig()
        if cfg.levels < 4 or 2**cfg.levels != cfg.image_size:
            raise AvsError(f"gan.image_size must be 2**gan.levels (levels >= 4), got {cfg.image_size} and "
                           f"{cfg.levels}")
        L, ngf = cfg.levels, cfg.ngf
        widths = [ngf * min(2**i, 8) for i in range(L)]
        in_nc = 3 * cfg.window
        self.e1 = nn.Conv2d(in_nc, widths[0], 4, 2, 1)
        self.down = nn.ModuleList(
            [_Down(widths[i - 1], widths[i], adain=i < L - 1) for i in range(1, L)]
        )
        ups = []
        for j in range(L - 1):
            enc = L - 2 - j  # skip from encoder level enc
            cin = widths[L - 1] if j == 0 else widths[enc + 1] * 2
            ups.append(_Up(cin, widths[enc], dropout=j < 3))
        self.up = nn.ModuleList(ups)
        self.heads = _Heads(widths[0] * 2)
        self.adain = [m for m in self.modules() if isinstance(m, AdaIN)]
        self.num_adain = sum(2 * m.num_features for m in self.adain)
        self.mlp = IdentityMLP(cfg.identity_dim, self.num_adain, cfg.mlp_layers)
        init_normal(self, 0.02)

    def forward(self, x: torch.Tensor, identity: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        p = self.mlp(identity)
        sizes = [2 * m.num_features for m in self.adain]
        params = list(torch.split(p, sizes, dim=1))
        enc_params, dec_params = params[: len(self.down) - 1], params[len(self.down) - 1:]
        feats = [self.e1(x)]
        for level in self.down:
            feats.append(level(feats[-1], enc_params))
        y = feats[-1]
        for j, level in enumerate(self.up):
            y = torch.cat([level(y, dec_params), feats[len(feats) - 2 - j]], dim=1)
        return self.heads(y, dec_params)


def compose(color: torch.Tensor, mask: torch.Tensor, render: torch.Tensor) -> torch.Tensor:
    """The refined frame: ``mask · render + (1 − mask) · color`` (reference ``memory_seq_model.forward``)."""
    return mask * render + (1.0 - mask) * color


class PatchGAN(nn.Module):
    """70×70 PatchGAN (reference ``NLayerDiscriminator``, 3 layers, BatchNorm): (B, 12, S, S) → (B, 1, h, w) logits.

    The 12 channels are the 9 render channels and the real or generated frame (conditional GAN).
    """

    def __init__(self, cfg: GanConfig | None = None) -> None:
        super().__init__()
        cfg = cfg or GanConfig()
        in_nc, ndf, n = 3 * cfg.window + 3, cfg.ndf, cfg.n_layers_d
        seq: list[nn.Module] = [nn.Conv2d(in_nc, ndf, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        mult = 1
        for i in range(1, n):
            prev, mult = mult, min(2**i, 8)
            seq += [nn.Conv2d(ndf * prev, ndf * mult, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * mult),
                    nn.LeakyReLU(0.2, True)]
        prev, mult = mult, min(2**n, 8)
        seq += [nn.Conv2d(ndf * prev, ndf * mult, 4, 1, 1, bias=False), nn.BatchNorm2d(ndf * mult),
                nn.LeakyReLU(0.2, True), nn.Conv2d(ndf * mult, 1, 4, 1, 1)]
        self.model = nn.Sequential(*seq)
        init_normal(self, 0.02)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


class MemoryNetwork(nn.Module):
    """Memory of (key, value, age) slots: keys are render queries, values identity features.

    Query: frozen face-feature of the render (B, F) → trainable Linear F → K → L2 norm (reference: frozen
    ResNet-18 → Linear 512 → 512; here F = 128, dlib's descriptor). Keys (M, K) and values (M, D) are buffers,
    updated without gradients by :meth:`update`; values start L1-normalised uniform(0, 0.01), keys
    L2-normalised uniform(-0.01, 0.01), as the reference.
    """

    def __init__(self, cfg: GanConfig | None = None, feature_dim: int = 128) -> None:
        super().__init__()
        cfg = cfg or GanConfig()
        self.cfg = cfg
        self.Linear = nn.Linear(feature_dim, cfg.query_dim)
        g = torch.Generator().manual_seed(0)
        values = torch.rand(cfg.mem_size, cfg.identity_dim, generator=g) * 0.01
        keys = torch.rand(cfg.mem_size, cfg.query_dim, generator=g) * 0.02 - 0.01
        self.register_buffer("spatial_key", F.normalize(keys, dim=1))
        self.register_buffer("color_value", F.normalize(values, p=1, dim=1))
        self.register_buffer("age", torch.zeros(cfg.mem_size))
        self.register_buffer("top_index", torch.full((cfg.mem_size,), -1.0))

    def forward(self, feature: torch.Tensor) -> torch.Tensor:
        """(B, F) face features of the render → (B, K) L2-normalised queries."""
        return F.normalize(self.Linear(feature), dim=1)

    def hinge_loss(self, query: torch.Tensor, identity: torch.Tensor) -> torch.Tensor:
        """Top-k hinge (reference ``unsupervised_loss``): among the top-k keys by cosine, positives are slots whose
        value·identity > ``iden_thres``; loss = mean(max(0, best negative − best positive + margin))."""
        score = query @ self.spatial_key.clone().t()  # a copy: update() writes the keys in place afterwards
        k = min(self.cfg.top_k, score.shape[1])
        top_score, top_index = torch.topk(score, k, dim=1)
        sim = torch.einsum("bkd,bd->bk", self.color_value[top_index], identity)
        positive = (sim > self.cfg.iden_thres).float()
        pos = (top_score * positive).max(dim=1).values
        neg = (top_score * (1.0 - positive)).max(dim=1).values
        return torch.clamp(neg - pos + self.cfg.margin, min=0.0).mean()

    @torch.no_grad()
    def update(self, query: torch.Tensor, identity: torch.Tensor, index: torch.Tensor,
               generator: torch.Generator | None = None) -> int:
        """Write a batch into memory (reference ``memory_update``).

        Each query's top-1 key: if its value matches (value·identity > threshold) the key becomes
        normalize(key + query) and its age 0; otherwise the oldest slots (age + uniform(±age_noise)) are replaced
        by (query, identity). Every slot ages by 1 per call. Returns the number of replacements.
        """
        top1 = (query @ self.spatial_key.t()).argmax(dim=1)
        match = (self.color_value[top1] * identity).sum(dim=1) > self.cfg.iden_thres
        self.age += 1.0
        hit = top1[match]
        self.spatial_key[hit] = F.normalize(self.spatial_key[hit] + query[match], dim=1)
        self.age[hit] = 0.0
        miss = ~match
        n = int(miss.sum())
        if n:
            noise = (torch.rand(self.age.shape, generator=generator) * 2 - 1) * self.cfg.age_noise
            old = torch.topk(self.age + noise.to(self.age.device), n).indices
            self.spatial_key[old] = query[miss]
            self.color_value[old] = identity[miss]
            self.top_index[old] = index[miss].to(self.top_index.dtype)
            self.age[old] = 0.0
        return n

    @torch.no_grad()
    def read(self, query: torch.Tensor) -> torch.Tensor:
        """(B, K) queries → (B, D) value of each query's top-1 key (the identity used at test time)."""
        return self.color_value[(query @ self.spatial_key.t()).argmax(dim=1)]


class PersonModel(nn.Module):
    """All trainable parts of a fine-tuned person: ATC_net, the GAN generator and the memory (one checkpoint)."""

    def __init__(self, atc_cfg: AtcConfig, gan_cfg: GanConfig, feature_dim: int = 128) -> None:
        super().__init__()
        self.atc = ATCNet(atc_cfg)
        self.unet = UNetAdaIN(gan_cfg) if gan_cfg.enabled else None
        self.memory = MemoryNetwork(gan_cfg, feature_dim) if gan_cfg.enabled else None

    def forward(self, mfcc: torch.Tensor, renders: torch.Tensor | None = None, identity: torch.Tensor | None = None,
                feature: torch.Tensor | None = None) -> tuple[torch.Tensor, ...]:
        """ATC_net on (B, T, 28, 12); with a GAN batch also the memory query (B, K) of ``feature`` (B, 128) and the
        generator's (color, mask) for ``renders`` (B, 9, S, S) and ``identity`` (B, D)."""
        coeff = self.atc(mfcc)
        if renders is None or self.unet is None or self.memory is None:
            return (coeff,)
        color, mask = self.unet(renders, identity)
        return coeff, self.memory(feature), color, mask


def count_parameters(module: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def receptive_field(n_layers: int = 3) -> int:
    """Receptive field (pixels) of a PatchGAN with ``n_layers`` stride-2 layers and two stride-1 4×4 convs."""
    rf = 1
    for stride in reversed([2] * n_layers + [1, 1]):
        rf = (rf - 1) * stride + 4
    return rf if n_layers else 1

