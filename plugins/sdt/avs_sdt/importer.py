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

SDT-VAE generators (``voice2pose_sdt_vae.yaml``, ``CLIP_CODE.EXTERNAL_CODE``) take a template code but
hold no table: the reference reads its templates from the pose2pose checkpoint's ``clip_code_mu``
(``Voice2PoseModel.__init__``). ``avs import sdt GEN.pth OUT --pose-vae POSE2POSE.pth`` (config key
``pose_vae_reference``) does the same: ``clip_code_mu`` (N, 32) becomes ``stats["templates"]``
(``variant=sdt-vae``).

The variant, norm, width and template count are read from the weights and written into the
config. Normalisation statistics are not in the reference's checkpoints: either ``--speaker NAME``
(config key ``speaker``) takes the per-speaker statistics the reference publishes in its
``core/datasets/speakers_stat.py`` (carried here as data, ``speakers_stat.json``: mean, std and scale
factor of the hierarchical or global form, as the variant uses), so an imported released model
de-normalises to the reference's pixels; or ``--data`` computes them from the speaker folders the model
was trained on.
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
        (our state dict, the variant): ``sdt-vae`` for a generator that takes a code but holds no table
        (its templates come from the pose VAE, :func:`read_pose_vae_templates`).

    Raises:
        AvsError: an unsupported reference model (pose VAE with audio, frame-variant codes) or an
            unrecognised file.
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
        cfg.variant, cfg.model.template_dim, cfg.model.num_templates = "sdt-vae", code_dim, 0
        return out, "sdt-vae"
    table = state["clips_code"]
    if table.dim() != 2 or int(table.shape[1]) != code_dim:
        raise AvsError(f"clips_code has shape {tuple(table.shape)}; expected (clips, {code_dim}) "
                       "(frame-variant codes are not supported)")
    out["templates"] = table
    cfg.variant, cfg.model.template_dim, cfg.model.num_templates = "sdt-bp", code_dim, int(table.shape[0])
    return out, "sdt-bp"


def read_pose_vae_templates(path: Path, code_dim: int) -> np.ndarray:
    """SDT-VAE's templates: ``clip_code_mu`` of the reference's pose2pose checkpoint.

    Args:
        path: the reference ``pose2pose`` ``.pth`` (``model_state_dict`` with ``module.clip_code_mu``).
        code_dim: the generator's code width (checked).

    Returns:
        (N, code_dim) float32, one row per training clip of the pose VAE.

    Raises:
        AvsError: unreadable file, no ``clip_code_mu``, or a code width other than ``code_dim``.
    """
    path = Path(path)
    if not path.is_file():
        raise AvsError(f"pose VAE checkpoint not found: {path}")
    state = read_reference(path)
    mu = state.get("clip_code_mu")
    if mu is None:
        raise AvsError(f"{path} has no clip_code_mu: pass the reference's pose2pose checkpoint (pose2pose.yaml)")
    if mu.dim() != 2 or int(mu.shape[1]) != code_dim or mu.shape[0] < 1:
        raise AvsError(f"{path}: clip_code_mu has shape {tuple(mu.shape)}; the generator takes "
                       f"(clips, {code_dim}) codes")
    return mu.float().numpy().astype(np.float32)


def _published_table(hierarchical: bool) -> dict[str, Any]:
    import json

    data = json.loads((Path(__file__).with_name("speakers_stat.json")).read_text(encoding="utf-8"))
    return data["hierarchical" if hierarchical else "global"]


def published_speakers(hierarchical: bool) -> list[str]:
    """Speakers with statistics published by the reference (``speakers_stat.py``) in that form."""
    return sorted(_published_table(hierarchical))


def published_stats(speaker: str, cfg: Any, num_templates: int) -> dict[str, np.ndarray]:
    """Statistics of one speaker from the reference's published figures (``speakers_stat.json``).

    ``mean``, ``std`` (1, 242) and ``scale_factor`` (1,) are the reference's (hierarchical table for the
    SDT variants, global for ``s2g``, as :func:`avs_sdt.config.resolve_hierarchical` says); ``neck`` is
    (0, 0), so predictions are neck-relative pixels like the reference's results; ``mean_pose`` is the
    decoded mean; ``clip_speaker`` assigns every template row to the speaker.

    Raises:
        AvsError: a speaker without published statistics in that form (the known ones are listed).
    """
    from avs_sdt.config import resolve_hierarchical
    from avs_sdt.keypoints import POSE_DIM, denormalise

    hierarchical = resolve_hierarchical(cfg)
    table = _published_table(hierarchical)
    if speaker not in table:
        form = "hierarchical" if hierarchical else "global"
        raise AvsError(f"the reference publishes no {form} statistics for speaker {speaker!r} "
                       f"(known: {', '.join(sorted(table))}); pass --data DIR to compute them")
    entry = table[speaker]
    mean = np.asarray(entry["mean"], np.float64).reshape(1, POSE_DIM)
    std = np.asarray(entry["std"], np.float64).reshape(1, POSE_DIM)
    scale = np.asarray([entry["scale_factor"]], np.float64)
    mean_pose = denormalise(np.zeros((1, POSE_DIM)), mean, std, scale[:, None, None], hierarchical)
    return {
        "speakers": np.asarray([speaker], dtype=np.str_),
        "mean": mean.astype(np.float32), "std": std.astype(np.float32), "scale_factor": scale.astype(np.float32),
        "neck": np.zeros((1, 2), np.float32), "mean_pose": mean_pose.astype(np.float32),
        "clip_speaker": np.zeros(num_templates, np.int32),
    }


def import_weights(reference: Path, cfg: Any, data_root: Path | None) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """``Method.import_weights``: read the reference file, map it, take or compute the statistics.

    Args:
        reference: the reference ``.pth``.
        cfg: the config (defaults + overrides); modified to match the weights. ``speaker``: use that
            speaker's published statistics; ``pose_vae_reference``: the pose2pose ``.pth`` whose
            ``clip_code_mu`` are an SDT-VAE generator's templates (cleared after reading).
        data_root: the SDT-layout data set the model was trained on (the statistics when no published
            speaker is named).

    Returns:
        (state dict for our generator, statistics).

    Raises:
        AvsError: see :func:`read_reference`, :func:`map_reference`, :func:`read_pose_vae_templates`,
            :func:`published_stats`; neither ``--speaker`` nor ``--data``, or both; an SDT-VAE generator
            without ``--pose-vae``; a template table whose size does not match the data's training clips
            with several speakers.
    """
    from avs_sdt.data import compute_stats

    state, variant = map_reference(read_reference(Path(reference)), cfg)
    speaker = str(cfg.speaker or "")
    pose_vae = str(getattr(cfg, "pose_vae_reference", None) or "")
    if variant == "sdt-vae" and not pose_vae:
        raise AvsError("this is an SDT-VAE generator: its templates are not in this file (the reference reads "
                       "them from the pose VAE checkpoint's clip_code_mu); pass --pose-vae POSE2POSE.pth")
    if pose_vae and variant != "sdt-vae":
        raise AvsError(f"--pose-vae is for SDT-VAE generators; {Path(reference).name} is {variant}")
    if speaker and data_root is not None:
        raise AvsError("pass either --speaker NAME (the reference's published statistics) or --data DIR "
                       "(statistics computed from the data), not both")
    if not speaker and data_root is None:
        raise AvsError("the reference checkpoints hold no normalisation statistics: pass --speaker NAME to use "
                       "the reference's published statistics, or --data DIR with the speaker folder(s) the model "
                       "was trained on (avs computes mean, std and scale from it)")
    templates = read_pose_vae_templates(Path(pose_vae), int(cfg.model.template_dim)) if pose_vae else None
    if pose_vae:
        cfg.pose_vae_reference = None  # read: the checkpoint carries the templates, not the path
    rows = int(cfg.model.num_templates) if variant == "sdt-bp" else (0 if templates is None else len(templates))
    if speaker:
        stats = published_stats(speaker, cfg, rows)
    else:
        table_size = int(cfg.model.num_templates)
        cfg.model.num_templates = 0  # the data's count is checked against the table below
        cfg.variant = "sdt-bp" if variant == "sdt-vae" else variant  # sdt-vae's templates come from the file
        try:
            stats = compute_stats(cfg, data_root)
        finally:
            cfg.variant = variant
            cfg.model.num_templates = table_size
        n = len(stats["clip_speaker"])
        if rows and n != rows:
            if len(stats["speakers"]) > 1:
                raise AvsError(f"the reference model has {rows} templates but the training split of {data_root} "
                               f"has {n} clips of several speakers; pass data.speakers=[NAME]")
            stats["clip_speaker"] = np.zeros(rows, dtype=np.int32)
    if templates is not None:
        stats["templates"] = templates
    return state, stats
