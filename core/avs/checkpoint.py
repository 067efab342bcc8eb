"""Checkpoints: safetensors weights with JSON metadata, and the training state for resuming.

A checkpoint (``*.safetensors``) holds the weights of every network a method needs for
inference (:attr:`avs.impl.MethodImpl.inference_networks`, usually just ``generator``), each
tensor named ``<network>.<parameter>``; its header's metadata (string → string) records:

``avs_format``
    ``"2"`` (format ``"1"``, the generator's weights alone with unprefixed names, is still read).
``networks``
    JSON list of the network names stored.
``method`` / ``plugin_version``
    the method's name and its plugin's version.
``config``
    the full config as JSON (:func:`avs.config.config_to_dict`).
``stats``
    normalisation statistics as JSON: ``{name: {"dtype", "shape", "data"}}``.
``extra``
    JSON of anything else the writer passed (the trainer: epoch, step, metrics).

Nothing is ever unpickled from a checkpoint. The training state (``state.pt``: every network,
every optimiser, epoch, step, RNG) is a torch file, read back with
``torch.load(..., weights_only=True)``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from avs.checkpoint_header import FORMAT, READABLE_FORMATS, parse_metadata  # noqa: F401 (re-exported)
from avs.checkpoint_header import check_file as _check_file
from avs.checkpoint_header import not_safetensors as _not_safetensors
from avs.config import build_config, config_to_dict
from avs.errors import AvsError
from avs.io import atomic_path
from avs.method import Method

TRAINING_STATE_FORMAT = 2


@dataclass
class Checkpoint:
    """A loaded checkpoint.

    Attributes:
        networks: network name → its weights; floating tensors as float32, others as saved.
        method_name: name of the method that wrote it.
        plugin_version: version of that method's plugin.
        config: the config it was trained with, as plain containers.
        stats: normalisation statistics (name → array of the saved dtype and shape).
        meta: the ``extra`` the writer stored (the trainer: ``epoch``, ``step``,
            ``metrics``, ``train``).
    """

    networks: dict[str, dict[str, torch.Tensor]]
    method_name: str
    plugin_version: str
    config: dict
    stats: dict[str, np.ndarray]
    meta: dict = field(default_factory=dict)

    @property
    def state_dict(self) -> dict[str, torch.Tensor]:
        """The generator's weights (``networks["generator"]``; empty if there is none)."""
        return self.networks.get("generator", {})


def as_networks(state: Mapping[str, Any]) -> dict[str, Mapping[str, torch.Tensor]]:
    """``{network: state dict}`` from either that or one flat state dict (taken as the generator's)."""
    if state and all(isinstance(v, Mapping) for v in state.values()):
        return dict(state)
    return {"generator": state}


def _json_safe(value: Any) -> Any:
    """Plain JSON: numpy/torch scalars to Python, non-finite floats to None."""
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        return _json_safe(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    return value


def _config_dict(cfg: Any) -> dict:
    """Plain containers from an OmegaConf config, a config dataclass instance or a dict."""
    import dataclasses

    from omegaconf import OmegaConf

    if isinstance(cfg, Mapping) and not OmegaConf.is_config(cfg):
        return dict(cfg)
    if dataclasses.is_dataclass(cfg) and not isinstance(cfg, type):
        cfg = OmegaConf.structured(cfg)
    return config_to_dict(cfg)


def _encode_stats(stats: Mapping[str, Any]) -> str:
    out = {}
    for name, value in stats.items():
        arr = np.asarray(value)
        if arr.dtype.kind not in "biufU":
            raise ValueError(f"stats {name!r}: dtype {arr.dtype} cannot be stored in a checkpoint")
        out[str(name)] = {"dtype": arr.dtype.str, "shape": list(arr.shape), "data": arr.ravel().tolist()}
    # allow_nan: a NaN in a statistic is kept (Python's json reads it back)
    return json.dumps(out, allow_nan=True)


def save_checkpoint(
    path: str | Path,
    state: Mapping[str, Any],
    *,
    method: Method,
    cfg: Any,
    stats: Mapping[str, np.ndarray],
    extra: Mapping[str, Any] | None = None,
    half: bool = False,
) -> Path:
    """Write networks' weights and their metadata to one safetensors file, atomically.

    Args:
        path: target file (``.safetensors``); its folder is created.
        state: ``{network name: state_dict()}``, or one flat state dict taken as the generator's
            (unwrapped, no ``module.`` prefix). Tensors may live on any device; tied (shared)
            tensors are stored separately.
        method: the method the weights belong to (name and version are recorded).
        cfg: the config the generator was built with (OmegaConf or dataclass).
        stats: normalisation statistics (numeric or string arrays).
        extra: JSON-serialisable values to record (epoch, step, metrics...).
        half: store floating tensors as float16 (about half the size); integer tensors
            (e.g. BatchNorm's ``num_batches_tracked``) are kept as they are.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        ValueError: for a statistic of a dtype that cannot be stored (e.g. object).
    """
    from safetensors.torch import save_file

    path = Path(path)
    networks = as_networks(state)
    tensors = {}
    storages: set[tuple[int, int]] = set()
    for net, net_state in networks.items():
        for name, tensor in net_state.items():
            t = tensor.detach().to("cpu")
            if half and t.is_floating_point():
                t = t.to(torch.float16)
            t = t.contiguous()
            where = (t.untyped_storage().data_ptr(), t.untyped_storage().nbytes())
            # copy only a tensor whose storage another one already uses (tied weights, views): safetensors
            # refuses shared storage, and copying everything would double the memory of a large model
            shared = where in storages or t.untyped_storage().nbytes() != t.nbytes
            tensors[f"{net}.{name}"] = t.clone() if shared else t
            storages.add(where)
    metadata = {
        "avs_format": FORMAT,
        "networks": json.dumps(sorted(networks)),
        "method": method.name,
        "plugin_version": str(method.version),
        "config": json.dumps(_json_safe(_config_dict(cfg))),
        "stats": _encode_stats(stats),
        "extra": json.dumps(_json_safe(dict(extra or {}))),
    }
    with atomic_path(path, suffix=".safetensors") as tmp:
        save_file(tensors, str(tmp), metadata=metadata)
    return path


READ_CHUNK_BYTES = 256 * 2**20
""":func:`load_checkpoint` reopens the file after reading this much, so that the pages of the memory-mapped
file it has read do not all stay resident while the weights are converted (a 2.6 GB float32 checkpoint
read as bfloat16 would otherwise peak at 2.6 + 1.3 GB)."""


def load_checkpoint(path: str | Path, method: Method | None = None, dtype: Any = None,
                    weights: bool = True) -> Checkpoint:
    """Read a checkpoint written by :func:`save_checkpoint`, without unpickling anything.

    Args:
        path: the ``.safetensors`` file.
        method: if given, the checkpoint must have been made for this method.
        dtype: the ``torch.dtype`` of the floating weights (default float32), converted tensor by
            tensor as they are read (the peak memory is the converted weights plus one tensor).
        weights: False reads the header only (config, statistics, metadata; no networks).

    Returns:
        A :class:`Checkpoint` on the CPU, floating weights as ``dtype``.

    Raises:
        AvsError: missing file, a directory, an empty file, not a safetensors file
            (text, a pickle, corrupt or truncated), no avs metadata, an unknown format
            version, or a checkpoint made for another method.
    """
    from safetensors import safe_open

    path = Path(path)
    _check_file(path, "checkpoint")
    dtype = torch.float32 if dtype is None else dtype

    def convert(t: torch.Tensor) -> torch.Tensor:
        return t.to(dtype) if t.is_floating_point() else t

    try:
        with safe_open(str(path), framework="pt", device="cpu") as f:
            metadata = f.metadata() or {}
            names = list(f.keys()) if weights else []  # noqa: SIM118 (safe_open API)
        state: dict[str, torch.Tensor] = {}
        while len(state) < len(names):  # reopened every READ_CHUNK_BYTES: the file's mapped pages are let go
            with safe_open(str(path), framework="pt", device="cpu") as f:
                read = 0
                for name in names[len(state):]:
                    state[name] = convert(f.get_tensor(name))
                    read += state[name].numel() * state[name].element_size()
                    if read >= READ_CHUNK_BYTES:
                        break
    except AvsError:
        raise
    except Exception as exc:  # safetensors raises SafetensorError, OSError, ValueError...
        raise _not_safetensors(path, exc) from None
    header = parse_metadata(path, metadata, method)
    networks = _split_networks(state, list(header.networks)) if header.format != "1" else {"generator": state}
    return Checkpoint(networks, header.method_name, header.plugin_version, header.config, header.stats, header.meta)


def _split_networks(state: Mapping[str, torch.Tensor], names: list[str]) -> dict[str, dict[str, torch.Tensor]]:
    networks: dict[str, dict[str, torch.Tensor]] = {str(n): {} for n in names}
    for key, value in state.items():
        net, _, param = key.partition(".")
        networks.setdefault(net, {})[param] = value
    return networks


def _first_mismatch(model: torch.nn.Module, state: Mapping[str, torch.Tensor]) -> str | None:
    expected = model.state_dict()
    for key, value in expected.items():
        if key not in state:
            return f"missing key {key!r}"
        if tuple(state[key].shape) != tuple(value.shape):
            return f"key {key!r} has shape {tuple(state[key].shape)}, the model expects {tuple(value.shape)}"
    for key in state:
        if key not in expected:
            return f"unexpected key {key!r}"
    return None


def load_state_strict(model: torch.nn.Module, state: Mapping[str, torch.Tensor], source: str,
                      assign: bool = False) -> None:
    """``model.load_state_dict(state, strict=True)`` with a one-line error.

    Args:
        assign: the model's parameters become the tensors of ``state`` instead of copies (for a model
            built on the meta device: no second copy of a large network).

    Raises:
        AvsError: naming the first missing, unexpected or wrongly shaped key.
    """
    problem = _first_mismatch(model, state)
    if problem is not None:
        raise AvsError(f"{source} does not fit the model: {problem} (was it trained with other options?)")
    try:
        model.load_state_dict(state, strict=True, assign=assign)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        raise AvsError(f"{source} does not fit the model: {first[-1] if first else exc}") from None


def build_impl(method: Method, cfg: Any, stats: Mapping[str, np.ndarray]) -> Any:
    """``method``'s implementation built from ``(cfg, stats)`` (the class bound to its record).

    Raises:
        AvsError: the implementation cannot be imported.
    """
    cls = method.impl_class()
    return cls(cfg, dict(stats))


def load_networks(impl: Any, networks: Mapping[str, Mapping[str, torch.Tensor]], source: str,
                  assign: bool = False) -> None:
    """Load every network of ``impl.inference_networks`` strictly from ``networks``.

    Args:
        assign: as :func:`load_state_strict` (networks built on the meta device).

    Raises:
        AvsError: a network missing from the checkpoint, or weights that do not fit (first key named).
    """
    built = impl.networks()
    for name in impl.inference_networks:
        if name not in built:
            continue  # a variant without this network (e.g. no discriminator)
        if name not in networks:
            raise AvsError(f"{source} has no weights for the {name!r} network")
        load_state_strict(built[name], networks[name], source, assign=assign)


def load_impl(
    method: Method,
    checkpoint_path: str | Path,
    overrides: Iterable[str] = (),
    device: str | torch.device = "cpu",
) -> Any:
    """Build a method's implementation from a checkpoint, ready for inference.

    The config is the checkpoint's saved config with ``overrides`` (``key=value``) on top; the
    statistics are the checkpoint's. The networks take the precision the implementation asks for
    (:meth:`avs.impl.MethodImpl.inference_dtype`, float32 by default). An implementation with
    ``meta_init`` is built on the meta device and takes the checkpoint's tensors, read in that precision,
    as its parameters: the peak memory is about the size of the weights in that precision (networks
    that inference does not use are left uninitialised).

    Args:
        method: the method (the checkpoint must be of this method).
        checkpoint_path: a ``.safetensors`` file from :func:`save_checkpoint`.
        overrides: dotted ``key=value`` config overrides.
        device: ``"cpu"``, ``"cuda"``, ``"auto"`` or a :class:`torch.device`.

    Returns:
        The :class:`avs.impl.MethodImpl` with its networks loaded, in eval mode, on ``device``.

    Raises:
        AvsError: anything :func:`load_checkpoint` raises, a bad override, or weights that
            do not fit (naming the first offending key).
    """
    from avs.distributed import resolve_device

    cls = method.impl_class()
    header = load_checkpoint(checkpoint_path, method, weights=False)
    cfg = build_config(method.config_class, None, list(overrides), base=header.config)
    dev = device if isinstance(device, torch.device) else resolve_device(device)
    dtype = getattr(torch, str(cls.inference_dtype(cfg, dev)))
    source = f"checkpoint {checkpoint_path}"
    if cls.meta_init:  # no random initialisation: the checkpoint's tensors, read as dtype, become the parameters
        ckpt = load_checkpoint(checkpoint_path, method, dtype=dtype)
        with torch.device("meta"):
            impl = build_impl(method, cfg, ckpt.stats)
        load_networks(impl, ckpt.networks, source, assign=True)
        built = impl.networks()
        for name, net in built.items():
            if name not in impl.inference_networks and net is not None:
                net.to_empty(device="cpu")  # not used for inference (e.g. a discriminator): memory, no values
        left = [f"{name}.{key}" for name in impl.inference_networks if built.get(name) is not None
                for key, t in [*built[name].named_parameters(), *built[name].named_buffers()] if t.is_meta]
        if left:
            raise RuntimeError(f"{method.name}: meta_init is set but {left[0]} is not in the state dict")
    else:
        ckpt = load_checkpoint(checkpoint_path, method)
        impl = build_impl(method, cfg, ckpt.stats)
        load_networks(impl, ckpt.networks, source)
        if dtype != torch.float32:
            for net in impl.networks().values():
                if net is not None:
                    net.to(dtype)
    del ckpt
    impl.to(dev)
    impl.set_mode(False)
    return impl


def load_generator(
    method: Method,
    checkpoint_path: str | Path,
    overrides: Iterable[str] = (),
    device: str | torch.device = "cpu",
) -> tuple[torch.nn.Module, Any, dict[str, np.ndarray]]:
    """``(generator, cfg, stats)`` of :func:`load_impl`'s implementation (generator in eval mode).

    Raises:
        AvsError: as :func:`load_impl`.
    """
    impl = load_impl(method, checkpoint_path, overrides, device)
    return impl.networks()["generator"], impl.cfg, impl.stats


# --------------------------------------------------------------------------- training state


@dataclass
class TrainingState:
    """What ``state.pt`` holds to resume a run (see :func:`save_training_state`).

    Attributes:
        networks: network name → state dict (every network the method trains).
        optimizers: optimiser name → ``Optimizer.state_dict()``.
        epoch: the last completed epoch (1-based).
        step: generator steps taken so far.
        rng_state: every rank's generator states.
        best: the best validation so far, ``{"value", "epoch"}``.
    """

    networks: dict[str, dict[str, torch.Tensor]]
    optimizers: dict[str, dict]
    epoch: int
    step: int
    rng_state: dict
    best: dict

    @property
    def generator(self) -> dict[str, torch.Tensor] | None:
        """The ``generator`` network's state dict."""
        return self.networks.get("generator")

    @property
    def discriminator(self) -> dict[str, torch.Tensor] | None:
        """The ``discriminator`` network's state dict, or None."""
        return self.networks.get("discriminator")

    @property
    def opt_g(self) -> dict | None:
        """The ``generator`` optimiser's state."""
        return self.optimizers.get("generator")

    @property
    def opt_d(self) -> dict | None:
        """The ``discriminator`` optimiser's state, or None."""
        return self.optimizers.get("discriminator")


def _unwrap(module: Any) -> Any:
    return getattr(module, "module", module)


def save_training_state(
    path: str | Path,
    *,
    networks: Mapping[str, torch.nn.Module],
    optimizers: Mapping[str, torch.optim.Optimizer],
    epoch: int,
    step: int,
    rng_state: dict,
    best: dict,
) -> Path:
    """Write everything needed to resume training to one torch file, atomically.

    Args:
        path: target file (``state.pt``).
        networks: name → network (a DDP wrapper is unwrapped).
        optimizers: name → optimiser.
        epoch: the last completed epoch (1-based).
        step: generator steps taken so far.
        rng_state: tensors/ints/lists only (e.g. torch generator states), so that
            ``weights_only`` loading accepts it.
        best: the best validation so far, e.g. ``{"value": 0.1, "epoch": 3}``.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.
    """
    payload = {
        "format": TRAINING_STATE_FORMAT,
        "networks": {name: _unwrap(net).state_dict() for name, net in networks.items()},
        "optimizers": {name: opt.state_dict() for name, opt in optimizers.items()},
        "epoch": int(epoch),
        "step": int(step),
        "rng_state": rng_state,
        "best": dict(best),
    }
    path = Path(path)
    with atomic_path(path, suffix=".pt") as tmp:
        torch.save(payload, tmp)
    return path


def _format1_payload(payload: dict) -> dict:
    """A format-1 state (generator/discriminator/opt_g/opt_d keys) in format 2's layout."""
    nets = {"generator": payload["generator"], "discriminator": payload["discriminator"]}
    opts = {"generator": payload["opt_g"], "discriminator": payload["opt_d"]}
    return {**payload, "networks": {k: v for k, v in nets.items() if v is not None},
            "optimizers": {k: v for k, v in opts.items() if v is not None}}


def load_training_state(path: str | Path) -> TrainingState:
    """Read a file written by :func:`save_training_state` with ``torch.load(weights_only=True)``.

    Tensors are mapped to the CPU; ``load_state_dict`` moves them to the models' devices.
    A state of the previous format (generator and discriminator only) is read too.

    Raises:
        AvsError: missing, empty or corrupt file, or one that is not an avs training state.
    """
    path = Path(path)
    _check_file(path, "training state")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # zip/pickle errors of many kinds, or a forbidden global
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise AvsError(f"training state {path} cannot be read (corrupt or truncated?): {reason}") from None
    if not isinstance(payload, dict) or payload.get("format") not in (1, TRAINING_STATE_FORMAT):
        raise AvsError(f"{path} is not an avs training state (format {TRAINING_STATE_FORMAT})")
    try:
        if payload["format"] == 1:
            payload = _format1_payload(payload)
        return TrainingState(
            networks=dict(payload["networks"]),
            optimizers=dict(payload["optimizers"]),
            epoch=int(payload["epoch"]),
            step=int(payload["step"]),
            rng_state=payload["rng_state"],
            best=dict(payload["best"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise AvsError(f"training state {path} is incomplete: {exc}") from None


def export_checkpoint(method: Method, source: str | Path, target: str | Path, overrides: Sequence[str] = (),
                      half: bool = True) -> Path:
    """Re-save a training checkpoint compactly (fp16 by default), e.g. to bundle it with a plugin.

    Args:
        method: the method the checkpoint belongs to.
        source: a checkpoint written by the trainer (``best.safetensors``).
        target: the file to write (atomically).
        overrides: ``key=value`` changes written into the saved config (e.g. a path the bundled
            model should use at predict time).
        half: store float tensors as fp16 (integer buffers stay as they are).

    Raises:
        AvsError: as :func:`load_checkpoint`; a bad override.
    """
    from avs.config import build_config

    ckpt = load_checkpoint(source, method)
    cfg = build_config(method.config_class, overrides=list(overrides), base=ckpt.config)
    extra = {k: v for k, v in ckpt.meta.items() if k in ("epoch", "step", "metrics")}
    return save_checkpoint(Path(target), ckpt.networks, method=method, cfg=cfg, stats=ckpt.stats, extra=extra,
                           half=half)
