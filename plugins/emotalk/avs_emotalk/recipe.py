"""The EmoTalk objective (paper Sec. 3.4): cross- and self-reconstruction, velocity, emotion classification.

The paper trains on pairs A(c1,e2), A(c2,e1) (same sentences spoken with swapped emotions; RAVDESS has
them). With D the decoder, Ec/Ee the content/emotion encoders and B the ground-truth blendshapes:

- cross-reconstruction, both directions: ``D(Ec(A c1,e2), Ee(A c2,e1)) ≈ B(c1,e1)`` and
  ``D(Ec(A c2,e1), Ee(A c1,e2)) ≈ B(c2,e2)`` (the reference's training ``forward`` computes the first);
- self-reconstruction of both inputs: ``D(Ec(A c1,e2), Ee(A c1,e2)) ≈ B(c1,e2)`` and the same for A(c2,e1);
- velocity: MSE of frame-to-frame differences of every reconstruction;
- emotion classification: cross-entropy of the emotion head on each input's emotion.

Reconstruction terms are the MSE over valid frames and all 52 channels (padding masked). The weights
were not published: ``cfg.loss`` holds ours (:class:`avs_emotalk.config.LossConfig`). Batches come
from :func:`avs_emotalk.data.collate`; core's trainer owns the optimiser.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from avs.api import AvsError
from avs_emotalk.arkit import EMOTIONS

_INPUTS = ("audio", "audio_lengths", "content_index", "emotion_index", "num_frames", "level", "person")


def _unwrap(module: Any) -> Any:
    return getattr(module, "module", module)


def run_batch(G: Any, batch: Any) -> dict[str, torch.Tensor]:
    """Run the generator on a collated batch; moves the inputs to its device.

    Returns:
        the generator's outputs (``blendshapes`` (J, T, 52), ``mask`` (J, T), ``logits``, ``emotion_pooled``).
    """
    device = next(_unwrap(G).parameters()).device
    return G(*(torch.as_tensor(batch[k]).to(device) for k in _INPUTS))


def fit_target(target: Any, length: int, device: Any) -> torch.Tensor:
    """(J, T', 52) padded targets cropped or zero-padded to the prediction's ``length`` frames."""
    target = torch.as_tensor(target).to(device)[:, :length]
    if target.shape[1] < length:
        target = F.pad(target, (0, 0, 0, length - target.shape[1]))
    return target


def masked_mse(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean squared error over valid frames and all channels.

    Args:
        pred, target: (J, T, C); mask: (J, T) bool, True for valid frames.

    Returns:
        scalar; 0 if no frame is valid.
    """
    w = mask.unsqueeze(-1).to(pred.dtype)
    count = w.sum() * pred.shape[-1]
    return ((pred - target) ** 2 * w).sum() / count.clamp(min=1)


def velocity_mse(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """MSE of frame differences ``x[t+1] − x[t]`` where both frames are valid.

    Args:
        pred, target: (J, T, C); mask: (J, T) bool.

    Returns:
        scalar; 0 when no sequence has two frames.
    """
    both = mask[:, 1:] & mask[:, :-1]
    return masked_mse(pred[:, 1:] - pred[:, :-1], target[:, 1:] - target[:, :-1], both)


def emotion_ce(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of the emotion head over jobs with a known label (−1 = unknown, ignored); 0 if none."""
    known = labels >= 0
    if not bool(known.any()):
        return logits.sum() * 0.0
    return F.cross_entropy(logits[known], labels[known])


def losses(G: Any, batch: Any) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """Every term of the objective for one batch.

    Returns:
        (terms, outputs): ``cross``, ``self``, ``velocity``, ``emotion`` scalar tensors, and the
        generator's outputs.
    """
    out = run_batch(G, batch)
    pred, mask = out["blendshapes"], out["mask"]
    device = pred.device
    target = fit_target(batch["target"], pred.shape[1], device)
    cross = torch.as_tensor(batch["cross"]).to(device).bool()
    labels = torch.as_tensor(batch["emotion_label"]).to(device).long()
    if int(labels.max()) >= out["logits"].shape[1]:
        raise AvsError(f"the emotion head has {out['logits'].shape[1]} classes but the data has "
                       f"{len(EMOTIONS)} RAVDESS emotions; train with model.num_emotions={len(EMOTIONS)}")
    terms = {
        "cross": masked_mse(pred, target, mask & cross[:, None]),
        "self": masked_mse(pred, target, mask & ~cross[:, None]),
        "velocity": velocity_mse(pred, target, mask),
        "emotion": emotion_ce(out["logits"], labels),
    }
    return terms, out


def total_loss(terms: dict[str, torch.Tensor], cfg: Any) -> torch.Tensor:
    """``w_cross · cross + w_self · self + w_velocity · velocity + w_emotion · emotion`` (``cfg.loss``)."""
    w = cfg.loss
    return (float(w.w_cross) * terms["cross"] + float(w.w_self) * terms["self"]
            + float(w.w_velocity) * terms["velocity"] + float(w.w_emotion) * terms["emotion"])


def generator_loss(G: Any, D: Any | None, batch: Any, cfg: Any) -> tuple[torch.Tensor, dict[str, float]]:
    """The training loss of one batch (``Method.generator_loss``; EmoTalk has no discriminator).

    Also moves the per-emotion running means of the emotion features (for ``emotion=<name>``).

    Args:
        G: the generator (possibly DDP-wrapped), in train mode.
        D: unused (None).
        batch: from :func:`avs_emotalk.data.collate`.
        cfg: an :class:`avs_emotalk.config.EmoTalkConfig` (``cfg.loss``).

    Returns:
        (scalar loss, {"cross", "self", "velocity", "emotion", "total"} as floats).
    """
    terms, out = losses(G, batch)
    loss = total_loss(terms, cfg)
    model = _unwrap(G)
    if model.training:
        labels = torch.as_tensor(batch["emotion_label"]).to(out["emotion_pooled"].device)
        model.update_prototypes(out["emotion_pooled"].detach(), labels)
    logs = {k: float(v.detach()) for k, v in terms.items()}
    logs["total"] = float(loss.detach())
    return loss, logs


def validate(G: Any, batch: Any, cfg: Any) -> dict[str, float]:
    """Dev metrics of one batch (the trainer averages them and keeps the best ``mse``).

    Returns:
        ``mse`` (all four reconstructions, weights²), ``mse_cross``, ``mse_self``, ``velocity``,
        ``emotion_acc`` (fraction of jobs with a known label whose head argmax is right; NaN-free: 0
        when no labels).
    """
    with torch.no_grad():
        terms, out = losses(G, batch)
        pred, mask = out["blendshapes"], out["mask"]
        target = fit_target(batch["target"], pred.shape[1], pred.device)
        labels = torch.as_tensor(batch["emotion_label"]).to(pred.device)
        known = labels >= 0
        acc = float((out["logits"].argmax(1)[known] == labels[known]).float().mean()) if bool(known.any()) else 0.0
        return {"mse": float(masked_mse(pred, target, mask)), "mse_cross": float(terms["cross"]),
                "mse_self": float(terms["self"]), "velocity": float(terms["velocity"]), "emotion_acc": acc}
