"""RD-GAN's objective: SSIM + L1 + adversarial terms of both GANs, trained dually.

Source: Guo, Yan, Liu 2021, Sec. 2.3; weights from the reference AuroraWJJ/RD-GAN's bytecode.

For a training pair (left image I_l with edge map B_l, right image I_r with B_r) the generator
``G = fine ∘ seed`` is evaluated four times in one batch: G(l, B_r) ≈ I_r and G(r, B_l) ≈ I_l (the dual
translations) and G(l, B_l) ≈ I_l, G(r, B_r) ≈ I_r (identities). Generator loss:

- seed GAN, each of the four: ``w_ssim · (1 − SSIM) + w_l1 · L1`` (SSIM: 11×11 Gaussian window, σ 1.5,
  K1 0.01, K2 0.03, on images scaled to [0, 1], per colour channel, valid window positions);
- fine GAN, each of the four: ``w_l1 · L1``;
- adversarial, the two translations of each GAN, judged by the critic of the side they imitate:
  ``w_adv · BCE(D(fake), 1)``, the non-saturating GAN loss (Goodfellow et al. 2014) — a standard
  documented loss in place of the reference's, whose signs are inconsistent;
- parallelogram: ``w_parallelogram · mean|I_l + I_r − G(l, B_r) − G(r, B_l)|`` on the fine frames;
- ours, off by default (``w_mouth`` = 0): ``w_mouth`` · L1 inside the target's lip box (landmarks 48–67 ± 4 px)
  for both GANs' four evaluations, so that the mouth has to follow the edge map.

Critic loss: ``BCE(D(real), 1) + BCE(D(fake), 0)`` for each of the four critics (left/right × seed/fine).
Weight decay 5e-4 is the optimiser's (:meth:`avs_rdgan.method.RDGANMethod.configure_optimizers`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F


def gaussian_window(size: int = 11, sigma: float = 1.5) -> torch.Tensor:
    """(size, size) float32 Gaussian window summing to 1."""
    x = torch.arange(size, dtype=torch.float32) - (size - 1) / 2.0
    g = torch.exp(-(x**2) / (2 * sigma**2))
    g = g / g.sum()
    return g[:, None] * g[None, :]


def ssim(a: torch.Tensor, b: torch.Tensor, size: int = 11, sigma: float = 1.5,
         k1: float = 0.01, k2: float = 0.03) -> torch.Tensor:
    """Mean SSIM (Wang et al. 2004) of two image batches in [−1, 1], differentiable.

    Args:
        a, b: (B, C, H, W) in [−1, 1] (scaled to [0, 1], so L = 1).
        size, sigma: Gaussian window.
        k1, k2: stability constants.

    Returns:
        Scalar tensor: SSIM averaged over channels, valid window positions and the batch.
    """
    a = (a + 1) / 2
    b = (b + 1) / 2
    c = a.shape[1]
    w = gaussian_window(size, sigma).to(a)[None, None].expand(c, 1, size, size)

    def blur(x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, w, groups=c)

    mu_a, mu_b = blur(a), blur(b)
    var_a = blur(a * a) - mu_a**2
    var_b = blur(b * b) - mu_b**2
    cov = blur(a * b) - mu_a * mu_b
    c1, c2 = k1**2, k2**2
    s = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
    return s.mean()


def adversarial_g(logits: torch.Tensor) -> torch.Tensor:
    """Non-saturating generator loss: BCE(D(fake), real)."""
    return F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))


def adversarial_d(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Critic loss: BCE(D(real), 1) + BCE(D(fake), 0)."""
    return (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
            + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))


def dual_forward(G: Any, batch: Mapping[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The four evaluations of a pair batch in one generator call.

    Args:
        G: the generator pair (``(face, edges) → (seed, frame)``).
        batch: ``left``, ``right`` (B, 3, 128, 128) faces and ``left_edges``, ``right_edges`` edge maps.

    Returns:
        ``seed``, ``frame``, ``target``, each (4B, 3, 128, 128), in the order
        G(l, B_r), G(r, B_l), G(l, B_l), G(r, B_r).
    """
    il, ir, bl, br = batch["left"], batch["right"], batch["left_edges"], batch["right_edges"]
    faces = torch.cat([il, ir, il, ir])
    edges = torch.cat([br, bl, bl, br])
    target = torch.cat([ir, il, il, ir])
    seed, frame = G(faces, edges)
    return seed, frame, target


def generator_loss(G: Any, critics: Any, batch: Mapping[str, torch.Tensor], cfg: Any) -> tuple[torch.Tensor, dict]:
    """Dual generator loss of a pair batch (module docstring).

    Args:
        G: :class:`~avs_rdgan.model.RDGenerator` (possibly DDP-wrapped).
        critics: :class:`~avs_rdgan.model.DualCritics` (unwrapped: only read), or None to skip the
            adversarial terms.
        batch: see :func:`dual_forward`.
        cfg: the method config (``cfg.loss``).

    Returns:
        The scalar loss and the logged terms (floats).
    """
    w = cfg.loss
    seed, frame, target = dual_forward(G, batch)
    n = batch["left"].shape[0]
    seeds, frames, targets = seed.split(n), frame.split(n), target.split(n)
    l1_seed = sum(F.l1_loss(s, t) for s, t in zip(seeds, targets, strict=True))
    l1_fine = sum(F.l1_loss(f, t) for f, t in zip(frames, targets, strict=True))
    ssim_seed = sum(1 - ssim(s, t, w.ssim_window, w.ssim_sigma) for s, t in zip(seeds, targets, strict=True))
    para = (batch["left"] + batch["right"] - frames[0] - frames[1]).abs().mean()
    loss = w.w_ssim * ssim_seed + w.w_l1 * (l1_seed + l1_fine) + w.w_parallelogram * para
    logs = {"l1_seed": float(l1_seed.detach()) / 4, "l1": float(l1_fine.detach()) / 4,
            "ssim_seed": 1 - float(ssim_seed.detach()) / 4, "parallelogram": float(para.detach())}
    if w.w_mouth > 0:
        masks = torch.cat([batch["right_mouth"], batch["left_mouth"], batch["left_mouth"], batch["right_mouth"]])
        denom = masks.sum().clamp(min=1.0) * seed.shape[1]
        mouth = ((seed - target).abs() * masks).sum() / denom + ((frame - target).abs() * masks).sum() / denom
        loss = loss + w.w_mouth * 4 * mouth  # 4 evaluations, like the summed L1 terms
        logs["l1_mouth"] = float(mouth.detach()) / 2
    if critics is not None and w.w_adv > 0:
        # G(l, B_r) imitates the right image: the right critic judges it; G(r, B_l) the left.
        adv = (adversarial_g(critics.right.seed(seeds[0])) + adversarial_g(critics.left.seed(seeds[1]))
               + adversarial_g(critics.right.fine(frames[0])) + adversarial_g(critics.left.fine(frames[1])))
        loss = loss + w.w_adv * adv
        logs["adv_g"] = float(adv.detach()) / 4
    return loss, logs


def critic_loss(G: Any, critics: Any, batch: Mapping[str, torch.Tensor]) -> tuple[torch.Tensor, dict]:
    """Loss of the four critics on a pair batch; the generator runs without gradients.

    Returns:
        The scalar loss (sum over left/right × seed/fine) and its mean as ``d``.
    """
    il, ir, bl, br = batch["left"], batch["right"], batch["left_edges"], batch["right_edges"]
    with torch.no_grad():
        seed, frame = G(torch.cat([il, ir]), torch.cat([br, bl]))
    n = il.shape[0]
    s_lr, s_rl = seed[:n], seed[n:]
    f_lr, f_rl = frame[:n], frame[n:]
    # one forward call of all critics (real, fake per critic, each run separately), so that DDP syncs them
    logits = critics([("right", "seed", ir), ("right", "seed", s_lr), ("left", "seed", il), ("left", "seed", s_rl),
                      ("right", "fine", ir), ("right", "fine", f_lr), ("left", "fine", il), ("left", "fine", f_rl)])
    loss = sum(adversarial_d(logits[k], logits[k + 1]) for k in range(0, 8, 2))
    return loss, {"d": float(loss.detach()) / 4}


def landmark_loss(model: Any, batch: Mapping[str, torch.Tensor]) -> tuple[torch.Tensor, dict]:
    """L1 of the audio→landmark displacements over items that have audio.

    Args:
        model: :class:`~avs_rdgan.audio2landmark.AudioToLandmarks`.
        batch: ``mel`` (B, 4T, M), ``disp`` (B, T, 68, 2) face-box units, ``has_audio`` (B,) 0/1.

    Returns:
        The scalar loss (0 when no item has audio) and ``a2l_l1`` in 128-px crop pixels.
    """
    mask = batch["has_audio"].float()
    pred = model(batch["mel"])
    per_item = (pred - batch["disp"]).abs().mean(dim=(1, 2, 3))
    loss = (per_item * mask).sum() / mask.sum().clamp(min=1.0)
    return loss, {"a2l_l1_px": float(loss.detach()) * 128.0}
