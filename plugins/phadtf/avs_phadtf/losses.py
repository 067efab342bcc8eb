"""PHADTF objectives.

ATC_net (reference ``Audio/code/atcnet.py::Trainer.fit`` with ``--less_constrain --smooth_loss --smooth_loss2``):
``MSE(exp) + λ_pose·MSE(pose) + λ_s·mean_b Σ_t‖Δpose‖² + λ_s2·mean_b Σ_t‖Δexp‖²`` with λ_pose 0.2, λ_s 0.01,
λ_s2 1e-4; the smoothness terms act on the prediction only.

GAN (reference ``render-to-video/models/memory_seq_model.py``, vanilla GAN = BCE with logits):
G: ``GAN(D(render, fake), real) + λ_L1·L1(fake, real) + λ_mask·mean(mask) + λ_tv·TV(mask)``,
D: ``(GAN(D(render, fake), fake) + GAN(D(render, real), real)) / 2``. TV is the sum (not mean) of absolute
neighbour differences, as the reference's ``_compute_loss_smooth``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from avs_phadtf.config import AtcConfig, GanConfig
from avs_phadtf.model import NUM_EXP


def atc_loss(pred: torch.Tensor, target: torch.Tensor, cfg: AtcConfig) -> tuple[torch.Tensor, dict[str, float]]:
    """ATC_net loss of (B, T, 70) predicted and target coefficients (64 exp then 6 pose).

    Returns:
        the scalar loss and its named parts (``mse_exp``, ``mse_pose``, ``smooth_pose``, ``smooth_exp``).
    """
    mse_exp = F.mse_loss(pred[..., :NUM_EXP], target[..., :NUM_EXP])
    mse_pose = F.mse_loss(pred[..., NUM_EXP:], target[..., NUM_EXP:])
    d = pred[:, 1:] - pred[:, :-1]
    smooth_pose = (d[..., NUM_EXP:] ** 2).sum(dim=(1, 2)).mean()
    smooth_exp = (d[..., :NUM_EXP] ** 2).sum(dim=(1, 2)).mean()
    loss = mse_exp + cfg.lambda_pose * mse_pose + cfg.lambda_smooth_pose * smooth_pose \
        + cfg.lambda_smooth_exp * smooth_exp
    logs = {k: float(v.detach()) for k, v in (("mse_exp", mse_exp), ("mse_pose", mse_pose),
                                              ("smooth_pose", smooth_pose), ("smooth_exp", smooth_exp))}
    return loss, logs


def gan_bce(logits: torch.Tensor, real: bool) -> torch.Tensor:
    """Vanilla GAN loss (BCE with logits) against an all-real or all-fake target map."""
    target = torch.ones_like(logits) if real else torch.zeros_like(logits)
    return F.binary_cross_entropy_with_logits(logits, target)


def mask_tv(mask: torch.Tensor) -> torch.Tensor:
    """Total variation of a (B, 1, H, W) mask: sum of |horizontal| + |vertical| neighbour differences."""
    return (mask[..., :, :-1] - mask[..., :, 1:]).abs().sum() + (mask[..., :-1, :] - mask[..., 1:, :]).abs().sum()


def generator_gan_loss(d_fake: torch.Tensor, fake: torch.Tensor, real: torch.Tensor, mask: torch.Tensor,
                       cfg: GanConfig) -> tuple[torch.Tensor, dict[str, float]]:
    """G loss: GAN + λ_L1·L1 + λ_mask·mean(mask) + λ_tv·TV(mask). ``d_fake`` = D(renders ⊕ fake) logits."""
    g_gan = gan_bce(d_fake, True)
    l1 = F.l1_loss(fake, real)
    m_mean = mask.mean()
    tv = mask_tv(mask)
    loss = g_gan + cfg.lambda_l1 * l1 + cfg.lambda_mask * m_mean + cfg.lambda_mask_tv * tv
    return loss, {k: float(v.detach()) for k, v in (("g_gan", g_gan), ("l1_img", l1), ("mask", m_mean),
                                                     ("mask_tv", tv))}


def discriminator_loss(d_real: torch.Tensor, d_fake: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
    """D loss: (BCE(D(real), 1) + BCE(D(fake), 0)) / 2."""
    real, fake = gan_bce(d_real, True), gan_bce(d_fake, False)
    return 0.5 * (real + fake), {"d_real": float(real.detach()), "d_fake": float(fake.detach())}
