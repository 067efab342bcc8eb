"""The objectives of the four variants (SDT ``core/pipelines/voice2pose.py``, ``pose2pose.py``).

- ``s2g`` baseline: ``λ_reg·L1 + λ_gan·MSE(D(motion(fake)), 1)``; discriminator
  ``λ_gan·(MSE(D(motion(real)), 1) + MSE(D(motion(fake)), 0))`` with λ_gan = 0.1 (LSGAN on frame
  differences, PatchGAN-style scores).
- ``sdt-bp``: ``λ_reg·L1 + λ_kl_t·½·mean(−log var_b + μ_b² + var_b − 1)``, where μ_b and var_b are
  the mean and (unbiased) variance over the batch of the batch's template codes, per dimension;
  the term is left out while any var_b is 0 (at the start every template is 0), as the reference.
  The templates are rows of the generator's ``templates`` parameter, indexed by the clip.
- ``sdt-vae``: ``λ_reg·L1`` with the fixed templates of the batch (the pose VAE's μ); the KL term
  above is constant there and only logged.
- ``pose-vae``: ``λ_reg·L1(reconstruction) + λ_kl·½·mean(−log σ² + μ² + σ² − 1)``, λ_kl = 0.1.

L1 is the mean absolute error over all 242 normalised values and 64 frames. Batches are
:class:`avs_sdt.data.SDTDataset` items collated. Core's trainer owns the optimisers.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from avs.api import AvsError
from avs_sdt.config import check_variant, resolve_hierarchical
from avs_sdt.keypoints import denormalise
from avs_sdt.model import pose_to_motion, unwrap


def _device(module: Any) -> torch.device:
    return next(module.parameters()).device


def _tensor(batch: Any, key: str, device: torch.device, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    if key not in batch:
        raise AvsError(f"the batch has no {key!r} (a data set built for another variant?)")
    return torch.as_tensor(batch[key], device=device).to(dtype)


def template_codes(G: Any, batch: Any, cfg: Any, device: torch.device) -> torch.Tensor | None:
    """The batch's template codes: (B, template_dim) or None for the s2g baseline.

    ``sdt-bp``: rows ``batch["template_index"]`` of the generator's ``templates`` parameter (with
    gradient); ``sdt-vae``: ``batch["template"]`` (fixed).
    """
    variant = check_variant(cfg)
    if variant == "sdt-bp":
        index = _tensor(batch, "template_index", device, torch.long)
        return unwrap(G).templates[index]
    if variant == "sdt-vae":
        return _tensor(batch, "template", device)
    return None


def template_kl(code: torch.Tensor) -> torch.Tensor | None:
    """SDT-BP's regulariser: ½·mean_d(−log var_b + μ_b² + var_b − 1) over the batch statistics.

    Args:
        code: (B, D) template codes.

    Returns:
        The scalar, or None when it is undefined: a batch of one, or a zero variance (the
        reference skips the term while ``(var != 0).all()`` fails).
    """
    if code.shape[0] < 2:
        return None
    mu, var = code.mean(dim=0), code.var(dim=0)
    if not bool((var > 0).all()):
        return None
    return 0.5 * (-torch.log(var) + mu**2 + var - 1).mean()


def vae_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """The pose VAE's KL to N(0, I): ½·mean(−log σ² + μ² + σ² − 1) over batch and dimensions."""
    return 0.5 * (-logvar + mu**2 + torch.exp(logvar) - 1).mean()


def generator_loss(G: Any, D: Any | None, batch: Any, cfg: Any) -> tuple[torch.Tensor, dict[str, float]]:
    """The generator's (or pose VAE's) loss for ``cfg.variant``.

    Args:
        G: the generator or pose VAE (possibly DDP-wrapped), in train mode.
        D: the discriminator with ``requires_grad`` off (``s2g``), or None.
        batch: ``mel`` (B, 80, 427), ``pose`` (B, 64, 242) normalised, ``template_index`` (B,),
            ``template`` (B, 32) for ``sdt-vae``.
        cfg: an :class:`avs_sdt.config.SDTConfig`.

    Returns:
        (scalar loss, logged floats: ``g_l1``, ``g_gan``, ``g_template_kl``, ``vae_kl``, ``g_total``
        as they apply).
    """
    variant = check_variant(cfg)
    device = _device(G)
    real = _tensor(batch, "pose", device)
    lam = cfg.loss
    logs: dict[str, float] = {}
    if variant == "pose-vae":
        recon, mu, logvar = G(real)
        reg = F.l1_loss(recon, real)
        kl = vae_kl(mu, logvar)
        loss = float(lam.lambda_reg) * reg + float(lam.lambda_kl) * kl
        logs.update(g_l1=float(reg.detach()), vae_kl=float(kl.detach()))
    else:
        mel = _tensor(batch, "mel", device)
        code = template_codes(G, batch, cfg, device)
        fake = G(mel, real.shape[1], code)
        reg = F.l1_loss(fake, real)
        loss = float(lam.lambda_reg) * reg
        logs["g_l1"] = float(reg.detach())
        if code is not None:
            kl = template_kl(code)
            if kl is not None:
                logs["g_template_kl"] = float(kl.detach())
                if variant == "sdt-bp":
                    loss = loss + float(lam.lambda_template_kl) * kl
        if D is not None:
            score = D(pose_to_motion(fake))
            gan = F.mse_loss(score, torch.ones_like(score))
            loss = loss + float(lam.lambda_gan) * gan
            logs["g_gan"] = float(gan.detach())
    logs["g_total"] = float(loss.detach())
    return loss, logs


def discriminator_loss(G: Any, D: Any, batch: Any, cfg: Any) -> tuple[torch.Tensor, dict[str, float]]:
    """The s2g baseline's LSGAN discriminator loss ``λ_gan·(MSE(D(real), 1) + MSE(D(fake), 0))`` on motion.

    The generator runs without gradient in its current mode (its batch-norm statistics update as
    they would in the reference's shared forward).

    Raises:
        AvsError: called for a variant without a discriminator.
    """
    if check_variant(cfg) != "s2g":
        raise AvsError(f"variant {cfg.variant!r} has no discriminator")
    device = _device(D)
    real = _tensor(batch, "pose", device)
    with torch.no_grad():
        fake = G(_tensor(batch, "mel", device), real.shape[1])
    real_score = D(pose_to_motion(real))
    fake_score = D(pose_to_motion(fake.detach()))
    loss_real = F.mse_loss(real_score, torch.ones_like(real_score))
    loss_fake = F.mse_loss(fake_score, torch.zeros_like(fake_score))
    loss = float(cfg.loss.lambda_gan) * (loss_real + loss_fake)
    return loss, {"d_real": float(loss_real.detach()), "d_fake": float(loss_fake.detach()),
                  "d_total": float(loss.detach())}


def pixel_error(pred: torch.Tensor, real: torch.Tensor, batch: Any, cfg: Any) -> torch.Tensor:
    """Mean Euclidean distance per keypoint (pixels) between two normalised (B, T, 242) batches,
    de-normalised with each item's speaker statistics (``mean``, ``std``, ``scale``)."""
    device = pred.device
    mean = _tensor(batch, "mean", device)[:, None, :]
    std = _tensor(batch, "std", device)[:, None, :]
    scale = _tensor(batch, "scale", device).reshape(-1, 1, 1, 1)
    hierarchical = resolve_hierarchical(cfg)
    a = denormalise(pred, mean, std, scale, hierarchical)
    b = denormalise(real, mean, std, scale, hierarchical)
    return torch.linalg.vector_norm(a - b, dim=-1).mean()


def validate(G: Any, batch: Any, cfg: Any) -> dict[str, float]:
    """Validation metrics of one dev batch (the trainer averages them; the best ``l1`` is kept).

    The template of a dev clip is the random training template the dataset drew for it (seeded),
    as the reference validates with a random training template; the pose VAE reconstructs from μ.

    Returns:
        ``l1`` (normalised units) and ``l2_px`` (pixels per keypoint), lower is better.
    """
    variant = check_variant(cfg)
    device = _device(G)
    real = _tensor(batch, "pose", device)
    with torch.no_grad():
        if variant == "pose-vae":
            fake = G(real)[0]
        else:
            fake = G(_tensor(batch, "mel", device), real.shape[1], template_codes(G, batch, cfg, device))
        return {"l1": float(F.l1_loss(fake, real)), "l2_px": float(pixel_error(fake, real, batch, cfg))}
