"""``avs import emotalk EmoTalk.pth OUT.safetensors``: the released reference weights → an avs checkpoint.

The released ``EmoTalk.pth`` is the ``state_dict()`` of the reference's ``EmoTalk`` module
(psyai-net/EmoTalk_release ``model.py``). It is read with ``torch.load(weights_only=True)`` (nothing is
unpickled beyond tensors and containers) and mapped onto :class:`avs_emotalk.model.EmoTalk`, whose
parameter names are the reference's. The mapping (:func:`map_reference_state`):

======================================================  ==================================================
reference key                                           ours
======================================================  ==================================================
``module.<k>`` (a DataParallel save)                    ``<k>``
``audio_encoder_cont.lm_head.*``,                       dropped: the reference's wav2vec2 subclass adds a
``audio_encoder_emo.wav2vec2.lm_head.*``                ``Linear(1024, 32)`` its forward never uses
``*.pos_conv_embed.conv.weight_g`` / ``weight_v``       ``*.pos_conv_embed.conv.parametrizations.weight.``
(``torch.nn.utils.weight_norm``, older torch)           ``original0`` / ``original1`` (today's
                                                        parametrized weight norm, as ``transformers`` does)
``audio_encoder_emo.classifier.{dense,out_proj}.*``     same names (our :class:`EmotionHead`)
``audio_feature_map_cont``, ``audio_feature_map_emo``,  same names and shapes
``audio_feature_map_emo2``, ``obj_vector_level``,
``obj_vector_person``, ``transformer_decoder.*``,
``bs_map_r``, every other wav2vec2 key
(not in the reference)                                  ``emotion_prototypes``, ``emotion_prototype_count``:
                                                        computed from ``--data`` (RAVDESS-named training
                                                        clips) when given, else zero (``emotion=<name>``
                                                        then asks for ``auto`` or ``infer.emotion_audio``)
======================================================  ==================================================

Use the default (``model.encoder=large``) config; if the released emotion head has a number of classes
other than ``model.num_emotions`` the error says which value to pass.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from avs.api import AvsError

DROPPED_SUFFIXES = (".lm_head.weight", ".lm_head.bias")
WEIGHT_NORM_RENAMES = {
    "pos_conv_embed.conv.weight_g": "pos_conv_embed.conv.parametrizations.weight.original0",
    "pos_conv_embed.conv.weight_v": "pos_conv_embed.conv.parametrizations.weight.original1",
}
PROTOTYPE_KEYS = ("emotion_prototypes", "emotion_prototype_count")


def read_reference(path: str | Path) -> dict[str, torch.Tensor]:
    """The reference state dict, loaded with ``torch.load(weights_only=True)`` on the CPU.

    Accepts a plain state dict or one nested under ``state_dict``/``model``.

    Raises:
        AvsError: missing file, not a torch file, a file needing arbitrary unpickling, or no tensors.
    """
    path = Path(path)
    if not path.is_file():
        raise AvsError(f"reference weights not found: {path}")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # pickle/zip errors of many kinds, or a forbidden global
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise AvsError(f"cannot read {path} as PyTorch weights (weights_only): {first}") from None
    for key in ("state_dict", "model"):
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]
    if not isinstance(obj, dict) or not obj or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise AvsError(f"{path} does not hold a state dict of tensors (the reference's EmoTalk.pth does)")
    return dict(obj)


def map_reference_state(state: dict[str, torch.Tensor], model_keys: set[str] | None = None) -> dict[str, torch.Tensor]:
    """Rename reference keys to ours (module docstring). Prototype buffers are not added here.

    Args:
        state: the reference state dict.
        model_keys: our model's keys; with them, weight-norm keys are renamed only if the model uses the
            parametrized form (older torch keeps ``weight_g``/``weight_v``).

    Returns:
        the mapped state dict (same tensors).
    """
    out: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        if key.startswith("module."):
            key = key[len("module."):]
        if key.endswith(DROPPED_SUFFIXES):
            continue
        for old, new in WEIGHT_NORM_RENAMES.items():
            if key.endswith(old):
                renamed = key[: -len(old)] + new
                if model_keys is None or renamed in model_keys:
                    key = renamed
        out[key] = value
    return out


def import_weights(reference: Path, cfg: Any, data_root: Path | None) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """``Method.import_weights``: EmoTalk.pth → (our state dict, statistics).

    Args:
        reference: the released ``EmoTalk.pth``.
        cfg: the config the generator will be built with (defaults: the reference's shapes).
        data_root: optional 3D-ETF-style data set: its training split gives the statistics and the
            per-emotion running means of the emotion features (run through the imported encoder).

    Returns:
        (state dict for :class:`avs_emotalk.model.EmoTalk`, statistics: empty without ``data_root``, and
        always with a zero ``offset``: the reference's outputs are raw weights).

    Raises:
        AvsError: unreadable file; an emotion head whose class count differs from ``model.num_emotions``;
            bad data.
    """
    from avs_emotalk.model import build_generator

    state = read_reference(reference)
    out_proj = next((v for k, v in state.items() if k.endswith("audio_encoder_emo.classifier.out_proj.weight")), None)
    if out_proj is not None and out_proj.shape[0] != int(cfg.model.num_emotions):
        raise AvsError(f"{reference.name}'s emotion head has {out_proj.shape[0]} classes; import with "
                       f"model.num_emotions={out_proj.shape[0]}")
    model = build_generator(cfg)
    mapped = map_reference_state(state, set(model.state_dict()))
    for key in PROTOTYPE_KEYS:
        mapped.setdefault(key, model.state_dict()[key].clone())
    stats: dict[str, np.ndarray] = {}
    if data_root is not None:
        from avs.api import load_state_strict
        from avs_emotalk.data import EmoTalkDataset, compute_stats

        stats = compute_stats(cfg, data_root)
        stats["offset"] = np.zeros_like(stats["offset"])  # the reference predicts raw weights
        load_state_strict(model, mapped, str(reference))
        protos, counts = emotion_prototypes(model, EmoTalkDataset(data_root, "train", cfg, stats))
        mapped["emotion_prototypes"], mapped["emotion_prototype_count"] = protos, counts
    return mapped, stats


def emotion_prototypes(model: Any, dataset: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean pooled emotion features per RAVDESS emotion over a dataset's labelled clips.

    Returns:
        ((8, H) float32 means, (8,) float32 clip counts; zero where an emotion has no clip).
    """
    n = model.emotion_prototypes.shape[0]
    sums = torch.zeros_like(model.emotion_prototypes)
    counts = torch.zeros(n)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for k, clip in enumerate(dataset.clips):
                if not 0 <= clip.emotion < n:
                    continue
                y = torch.from_numpy(dataset.audio(k))[None]
                one = torch.zeros(1, dtype=torch.int64)
                out = model(y, torch.tensor([y.shape[1]]), one, one, torch.tensor([clip.num_frames]),
                            torch.tensor([clip.level]), torch.tensor([clip.person]))
                sums[clip.emotion] += out["emotion_pooled"][0]
                counts[clip.emotion] += 1
    finally:
        model.train(was_training)
    return sums / counts.clamp(min=1)[:, None], counts
