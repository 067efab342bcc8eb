"""``avs import sdt REF.pth OUT``: the reference repository's PyTorch checkpoints → avs checkpoints.

The reference (SpeechDrivesTemplates ``core/pipelines/trainer.py::save_checkpoint``) saves
``{"epoch", "step", "model_state_dict", "<optimizer>_state_dict"...}`` where the model state dict
comes from a ``DataParallel``/``DistributedDataParallel`` wrapper, so every key starts with
``module.``. Read with ``torch.load(weights_only=True)``: nothing is unpickled.

Voice2Pose checkpoints (``voice2pose_*.yaml``):

- ``module.netG.*`` → our generator (the same submodule names: ``audio_encoder.specgram_encoder_2d``,
  ``unet.e0..e6, d5..d1``, ``decoder``);
- ``module.clips_code`` (N, 32) → ``templates`` (SDT-BP's table);
- dropped: ``module.netG.code_mapper.*`` (a branch whose output is unused when a template is
  given), ``module.mel_transfm.*`` (torchaudio's buffers; our front-end recomputes them),
  ``module.pose_encoder.*`` (the FTD encoder; import the pose VAE itself instead),
  ``module.netD_pose.*`` (the discriminator; inference does not need it).

Pose2Pose checkpoints (``pose2pose.yaml``): ``module.ae.encoder.*``/``module.ae.decoder.*`` →
our pose VAE (``variant=pose-vae``); ``module.clip_code_mu``/``_logvar`` are dropped.

The variant, norm, width and template count are read from the weights and written into the
config. Normalisation statistics are not in the reference's checkpoints (they live in its
``speakers_stat.py``): pass ``--data`` with the speaker folders the model was trained on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from avs.api import AvsError

DROPPED_PREFIXES = ("netG.code_mapper.", "mel_transfm.", "pose_encoder.", "netD_pose.")


def read_reference(path: Path) -> dict[str, Any]:
    """The reference's model state dict with the ``module.`` prefix removed.

    Accepts the training checkpoint dict (``model_state_dict`` inside) or a bare state dict.

    Raises:
        AvsError: unreadable, not a PyTorch file, needs unpickling of arbitrary objects, or holds
            no state dict.
    """
    import torch

    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # zip/pickle errors of many kinds, or a forbidden global
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise AvsError(f"cannot read {path} as a PyTorch checkpoint (weights only): {reason}") from None
    state = payload.get("model_state_dict", payload) if isinstance(payload, dict) else None
    if not isinstance(state, dict) or not state or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise AvsError(f"{path} holds no model state dict (expected the reference's 'model_state_dict')")
    return {(k[len("module."):] if k.startswith("module.") else k): v for k, v in state.items()}


def _width_and_norm(state: dict[str, Any], prefix: str, first: str) -> tuple[int, str]:
    key = f"{prefix}{first}.conv.weight"
    if key not in state:
        raise AvsError(f"the reference checkpoint has no {key!r}; is it a SpeechDrivesTemplates model?")
    width = int(state[key].shape[0])
    norm = "batch" if f"{prefix}{first}.norm.running_mean" in state else "instance"
    return width, norm


def map_reference(state: dict[str, Any], cfg: Any) -> tuple[dict[str, Any], str]:
    """Rename a reference state dict (``module.`` already stripped) onto ours and configure ``cfg``.

    Sets ``cfg.variant``, ``cfg.model.norm``, ``cfg.model.width``, ``cfg.model.template_dim`` and
    ``cfg.model.num_templates`` (SDT-BP) from the weights.

    Returns:
        (our state dict, the variant).

    Raises:
        AvsError: an unsupported reference model (pose VAE with audio, frame-variant codes, an SDT-VAE
            generator whose templates live elsewhere) or an unrecognised file.
    """
    if any(k.startswith("ae.") for k in state):
        if any(k.startswith("ae.audio_encoder.") for k in state):
            raise AvsError("this pose2pose checkpoint decodes with audio (WITH_AUDIO); only the plain pose VAE "
                           "can be imported")
        width, norm = _width_and_norm(state, "ae.encoder.blocks.", "0")
        code_dim = int(state["ae.decoder.d5.conv.weight"].shape[1])
        out = {k[len("ae."):]: v for k, v in state.items() if k.startswith(("ae.encoder.", "ae.decoder."))}
        cfg.variant, cfg.model.norm, cfg.model.width, cfg.model.template_dim = "pose-vae", norm, width, code_dim
        cfg.model.num_templates = 0
        return out, "pose-vae"
    if not any(k.startswith("netG.") for k in state):
        raise AvsError("the reference checkpoint has neither 'module.netG.*' (Voice2Pose) nor 'module.ae.*' "
                       "(Pose2Pose) weights")
    width, norm = _width_and_norm(state, "netG.unet.", "e1")
    in_ch = int(state["netG.unet.e0.conv.weight"].shape[1])
    code_dim = in_ch - width
    out = {k[len("netG."):]: v for k, v in state.items()
           if k.startswith("netG.") and not k.startswith(DROPPED_PREFIXES)}
    cfg.model.norm, cfg.model.width = norm, width
    if code_dim == 0:
        if "clips_code" in state:
            raise AvsError("the reference checkpoint has templates but its generator takes no code")
        cfg.variant = "s2g"
        cfg.model.num_templates = 0
        return out, "s2g"
    if "clips_code" not in state:
        raise AvsError(
            "this is an SDT-VAE generator: its templates are not in this file (the reference reads them from the "
            "pose VAE checkpoint's clip_code_mu); import that pose VAE and train SDT-VAE with avs instead"
        )
    table = state["clips_code"]
    if table.dim() != 2 or int(table.shape[1]) != code_dim:
        raise AvsError(f"clips_code has shape {tuple(table.shape)}; expected (clips, {code_dim}) "
                       "(frame-variant codes are not supported)")
    out["templates"] = table
    cfg.variant, cfg.model.template_dim, cfg.model.num_templates = "sdt-bp", code_dim, int(table.shape[0])
    return out, "sdt-bp"


def import_weights(reference: Path, cfg: Any, data_root: Path | None) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """``Method.import_weights``: read the reference file, map it, compute statistics from ``data_root``.

    Args:
        reference: the reference ``.pth``.
        cfg: the config (defaults + overrides); modified to match the weights.
        data_root: the SDT-layout data set the model was trained on (required: the statistics).

    Returns:
        (state dict for our generator, statistics).

    Raises:
        AvsError: see :func:`read_reference`, :func:`map_reference`; no ``--data``; a template table
            whose size does not match the data's training clips with several speakers.
    """
    from avs_sdt.data import compute_stats

    state, variant = map_reference(read_reference(Path(reference)), cfg)
    if data_root is None:
        raise AvsError("the reference checkpoints hold no normalisation statistics: pass --data DIR with the "
                       "speaker folder(s) the model was trained on (avs computes mean, std and scale from it)")
    templates = int(cfg.model.num_templates)
    cfg.model.num_templates = 0  # the data's count is checked against the table below
    stats = compute_stats(cfg, data_root)
    if variant == "sdt-bp":
        n = len(stats["clip_speaker"])
        if n != templates:
            if len(stats["speakers"]) > 1:
                raise AvsError(f"the reference model has {templates} templates but the training split of {data_root} "
                               f"has {n} clips of several speakers; pass data.speakers=[NAME]")
            stats["clip_speaker"] = np.zeros(templates, dtype=np.int32)
    cfg.model.num_templates = templates
    return state, stats
