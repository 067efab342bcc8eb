"""Map the reference's released PyTorch weights onto ours (``avs import phadtf FILE``).

Two files of yiranran/Audio-driven-TalkingFace-HeadPose load here:

- ATC_net (``Audio/model/atcnet_lstm_general.pth`` style, ``models.py::ATC_net(64 + 6)``): its names are ours
  (``audio_eocder.*``, ``audio_eocder_fc.*``, ``lstm.*``, ``lstm_fc.*``), so the state maps one to one onto
  a ``variant=general`` paper-size ATC_net. Note: its outputs are BFM expression coefficients and Deep3DFace
  angles/translation, not the open face model's coefficients; the imported net reproduces the reference's
  numbers (parity) but does not drive our renderer meaningfully without re-training.
- The render-to-video generator (``render-to-video/checkpoints/memory_seq_p2p/*/60_net_G.pth``,
  ``networks.py::unet_generator_ac_adain``): ``e1``; ``e{k}.body.1`` (conv) → ``down.{k-2}.conv``;
  ``d{k}.body.1`` (deconv) → ``up.{k-1}.deconv``; ``d8.body.1`` → ``heads.deconv``, ``d8.img_reg.0`` →
  ``heads.img_reg``, ``d8.attention_reg.0`` → ``heads.attention_reg``; ``mlp.model.*`` as is. AdaIN's unused
  running buffers are dropped. It needs ``gan.identity_dim=512`` (ArcFace features); our ATC_net and memory
  of that ``variant=finetune`` checkpoint stay freshly initialised (the reference's memory contents are plain
  tensors that its checkpoints do not save).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from avs.api import AvsError


def _strip_module(state: Mapping[str, Any]) -> dict[str, Any]:
    """Drop DataParallel's ``module.`` prefix."""
    return {k.removeprefix("module."): v for k, v in state.items()}


def kind_of(state: Mapping[str, Any]) -> str:
    """``"atc"`` or ``"generator"`` for a reference state dict. AvsError for anything else."""
    keys = set(state)
    if "audio_eocder.0.0.weight" in keys and "lstm_fc.0.weight" in keys:
        return "atc"
    if "e1.weight" in keys and "mlp.model.0.weight" in keys:
        return "generator"
    raise AvsError("not a PHADTF ATC_net or render-to-video generator state dict "
                   "(expected audio_eocder.* or e1.*/mlp.* keys)")


def map_atc(state: Mapping[str, Any]) -> dict[str, Any]:
    """Reference ATC_net names → ours (identical)."""
    return dict(_strip_module(state))


def map_generator(state: Mapping[str, Any], levels: int) -> dict[str, Any]:
    """Reference ``unet_generator_ac_adain`` names → :class:`avs_phadtf.model.UNetAdaIN` names.

    Raises:
        AvsError: a key that does not fit the layout of a ``levels``-level U-Net.
    """
    out: dict[str, Any] = {}
    for key, value in _strip_module(state).items():
        if key.endswith(("running_mean", "running_var", "num_batches_tracked")):
            continue  # AdaIN's dummy buffers
        if key.startswith(("e1.", "mlp.")):
            out[key] = value
            continue
        m = re.fullmatch(r"([ed])(\d+)\.(body\.1|img_reg\.0|attention_reg\.0)\.(weight|bias)", key)
        if not m:
            raise AvsError(f"unexpected key {key!r} in the reference generator")
        side, k, part, leaf = m.group(1), int(m.group(2)), m.group(3), m.group(4)
        if side == "e" and 2 <= k <= levels and part == "body.1":
            out[f"down.{k - 2}.conv.{leaf}"] = value
        elif side == "d" and 1 <= k < levels and part == "body.1":
            out[f"up.{k - 1}.deconv.{leaf}"] = value
        elif side == "d" and k == levels:
            name = {"body.1": "deconv", "img_reg.0": "img_reg", "attention_reg.0": "attention_reg"}[part]
            out[f"heads.{name}.{leaf}"] = value
        else:
            raise AvsError(f"key {key!r} does not fit a {levels}-level U-Net")
    return out


def import_reference(reference: Path, cfg: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Read a reference ``.pth`` (``torch.load(weights_only=True)``) and build our generator state.

    Returns:
        ``({"generator": state_dict}, stats)``; stats hold a unit ``coeff_std`` (the reference regressed raw
        coefficients) and, for a generator, nothing person-specific.

    Raises:
        AvsError: unreadable file, unknown layout, a config that does not fit (variant, sizes).
    """
    import numpy as np
    import torch

    try:
        state = torch.load(reference, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise AvsError(f"cannot read {reference} as a PyTorch state dict: {str(exc).splitlines()[0]}") from None
    if isinstance(state, Mapping) and "state_dict" in state and isinstance(state["state_dict"], Mapping):
        state = state["state_dict"]
    if not isinstance(state, Mapping):
        raise AvsError(f"{reference} does not hold a state dict")
    state = _strip_module(state)
    stats = {"coeff_std": np.ones(70, np.float32), "variant": np.array(cfg.variant)}
    kind = kind_of(state)
    if kind == "atc":
        if cfg.variant != "general":
            raise AvsError("a reference ATC_net imports as variant=general (add variant=general)")
        return {"generator": map_atc(state)}, stats
    if cfg.variant != "finetune" or cfg.gan.identity_dim != 512:
        raise AvsError("a reference generator imports with variant=finetune gan.identity_dim=512 "
                       "(the reference's AdaIN MLP reads 512-d ArcFace features)")
    from avs_phadtf.model import PersonModel

    person = PersonModel(cfg.atc, cfg.gan)
    mapped = map_generator(state, cfg.gan.levels)
    full = person.state_dict()
    unknown = [k for k in mapped if f"unet.{k}" not in full]
    if unknown:
        raise AvsError(f"reference generator key {unknown[0]!r} has no counterpart (gan.levels/ngf?)")
    for k, v in mapped.items():
        if full[f"unet.{k}"].shape != v.shape:
            raise AvsError(f"reference {k} has shape {tuple(v.shape)}, ours {tuple(full[f'unet.{k}'].shape)} "
                           "(set gan.ngf / gan.image_size to the reference's)")
        full[f"unet.{k}"] = v
    stats["coeff_mean"] = np.zeros(70, np.float32)
    return {"generator": full}, stats
