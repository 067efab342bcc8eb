"""The Speech2Gesture objective: L1 regression plus a least-squares GAN on motion.

Facts from speech2gesture ``audio_to_multiple_pose_gan/model.py`` (``PoseGAN.__init__``) and
``tf_layers.py::keypoints_regloss``:

- regression: mean absolute error of the normalised poses of the 48 non-neck keypoints
  (the neck is always 0 after normalisation and is left out);
- discriminator: ``MSE(D(real), 1) + lambda_d * MSE(D(fake), 0)``;
- generator: ``L1 + lambda_gan * MSE(D(fake), 1)``.

Batches: ``{"mel": (B, 418, 64) float32 log-mel, "pose": (B, 64, 98) float32 normalised pose at
15 fps}`` (see :class:`avs_s2g.data.S2GDataset`). Core's trainer owns the optimisers; these
functions only build the losses.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from avs_s2g.skeleton import NON_NECK_FLAT

_NON_NECK = list(NON_NECK_FLAT)


def _device(module: Any) -> torch.device:
    return next(module.parameters()).device


def _batch(batch: Any, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    mel = torch.as_tensor(batch["mel"], dtype=torch.float32, device=device)
    pose = torch.as_tensor(batch["pose"], dtype=torch.float32, device=device)
    return mel, pose


def regression_l1(fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """Mean |fake − real| over the 48 non-neck keypoints (96 values per frame), normalised units.

    Args:
        fake, real: (B, T, 98) normalised poses.

    Returns:
        scalar tensor.
    """
    return F.l1_loss(fake[..., _NON_NECK], real[..., _NON_NECK])


def generator_loss(G: Any, D: Any | None, batch: Any, cfg: Any) -> tuple[torch.Tensor, dict[str, float]]:
    """Generator loss ``L1 + lambda_gan * MSE(D(G(mel)), 1)``; the GAN term is left out when ``D`` is None.

    Args:
        G: the generator (possibly DDP-wrapped), in train mode.
        D: the discriminator with ``requires_grad`` off, or None (regression only).
        batch: ``mel`` (B, 418, 64), ``pose`` (B, 64, 98) normalised.
        cfg: an :class:`avs_s2g.config.S2GConfig` (``cfg.loss.lambda_gan``).

    Returns:
        (scalar loss, {"g_l1", "g_gan" (if D), "g_total"} as floats).
    """
    mel, real = _batch(batch, _device(G))
    fake = G(mel, real.shape[1])
    l1 = regression_l1(fake, real)
    logs = {"g_l1": float(l1.detach())}
    loss = l1
    if D is not None:
        score = D(fake)
        gan = F.mse_loss(score, torch.ones_like(score))
        loss = l1 + float(cfg.loss.lambda_gan) * gan
        logs["g_gan"] = float(gan.detach())
    logs["g_total"] = float(loss.detach())
    return loss, logs


def discriminator_loss(G: Any, D: Any, batch: Any, cfg: Any) -> tuple[torch.Tensor, dict[str, float]]:
    """LSGAN discriminator loss ``MSE(D(real), 1) + lambda_d * MSE(D(fake), 0)``, fake detached.

    The generator runs without gradient (in its current mode, so batch-norm statistics update as
    in the reference, which ran G in training mode for the D step too).

    Args:
        G: the generator (possibly DDP-wrapped).
        D: the discriminator (possibly DDP-wrapped), in train mode.
        batch: ``mel`` (B, 418, 64), ``pose`` (B, 64, 98) normalised.
        cfg: an :class:`avs_s2g.config.S2GConfig` (``cfg.loss.lambda_d``).

    Returns:
        (scalar loss, {"d_real", "d_fake", "d_total"} as floats).
    """
    mel, real = _batch(batch, _device(D))
    with torch.no_grad():
        fake = G(mel, real.shape[1])
    real_score = D(real)
    fake_score = D(fake.detach())
    loss_real = F.mse_loss(real_score, torch.ones_like(real_score))
    loss_fake = F.mse_loss(fake_score, torch.zeros_like(fake_score))
    loss = loss_real + float(cfg.loss.lambda_d) * loss_fake
    return loss, {"d_real": float(loss_real.detach()), "d_fake": float(loss_fake.detach()),
                  "d_total": float(loss.detach())}


def validate(G: Any, batch: Any, cfg: Any) -> dict[str, float]:
    """Validation metrics of one dev batch (the trainer averages them and keeps the best ``l1``).

    Args:
        G: the generator, in eval mode (the trainer wraps the call in ``torch.no_grad``).
        batch: ``mel`` (B, 418, 64), ``pose`` (B, 64, 98) normalised.
        cfg: unused (the signature of ``Method.validate``).

    Returns:
        ``{"l1": L1 of the 48 non-neck keypoints in normalised units (lower is better)}``.
        Pixel errors need the statistics: see :func:`avs_s2g.inference.evaluate`.
    """
    mel, real = _batch(batch, _device(G))
    with torch.no_grad():
        fake = G(mel, real.shape[1])
        return {"l1": float(regression_l1(fake, real))}
