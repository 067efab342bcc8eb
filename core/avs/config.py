"""Structured configs: a method's dataclass defaults, a YAML file, then ``key=value`` overrides.

Merging is OmegaConf's; unknown keys and wrong types become one-line :class:`AvsError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from avs.errors import AvsError


@dataclass
class TrainConfig:
    """Settings core's trainer reads from ``cfg.train``.

    Attributes:
        epochs: passes over the training split (or ``iterations_per_epoch`` steps each).
        iterations_per_epoch: generator steps per epoch; 0 means one pass over the data.
        batch_size: windows per step (per process under DDP).
        lr_g: Adam learning rate of the generator.
        lr_d: Adam learning rate of the discriminator.
        beta1: Adam β1.
        beta2: Adam β2.
        d_steps: discriminator steps per generator step.
        seed: seeds torch and the data order; runs on CPU are deterministic.
        device: ``auto`` (CUDA if available), ``cpu`` or ``cuda``.
        num_workers: DataLoader worker processes.
        checkpoint_every: save a numbered checkpoint every N epochs (``last`` is saved every epoch).
        lr_milestones: epochs after which both learning rates are multiplied by ``lr_gamma``
            (as MultiStepLR); negative values count from the end (``-10`` = epochs − 10).
        lr_gamma: the factor of each milestone.
    """

    epochs: int = 300
    iterations_per_epoch: int = 300
    batch_size: int = 32
    lr_g: float = 1e-4
    lr_d: float = 1e-4
    beta1: float = 0.9
    beta2: float = 0.999
    d_steps: int = 1
    seed: int = 0
    device: str = "auto"
    num_workers: int = 0
    checkpoint_every: int = 10
    lr_milestones: list[int] = field(default_factory=list)
    lr_gamma: float = 0.1


def parse_overrides(items: list[str]) -> list[str]:
    """Check that every override looks like ``key=value``.

    Raises:
        AvsError: for an item without ``=`` or with an empty key.
    """
    for item in items:
        key, sep, _ = item.partition("=")
        if not sep or not key.strip():
            raise AvsError(f"override {item!r} is not of the form key=value")
    return items


def build_config(config_class: type, yaml_path: str | Path | None = None,
                 overrides: list[str] | None = None, base: Any = None) -> Any:
    """Merge a method's defaults, an optional YAML file and ``key=value`` overrides.

    Args:
        config_class: the method's config dataclass (defaults).
        yaml_path: optional YAML file with a subset of keys.
        overrides: dotted ``key=value`` strings (``train.epochs=3``).
        base: optional config (e.g. from a checkpoint) to start from instead of the defaults.

    Returns:
        An OmegaConf ``DictConfig`` typed by ``config_class`` (attribute access).

    Raises:
        AvsError: missing/unreadable YAML, an unknown key or a value of the wrong type.
    """
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    try:
        cfg = OmegaConf.structured(config_class)
        if base is not None:
            cfg = OmegaConf.merge(cfg, base)
        if yaml_path is not None:
            path = Path(yaml_path)
            if not path.is_file():
                raise AvsError(f"config file not found: {path}")
            try:
                loaded = OmegaConf.load(path)
            except Exception as exc:  # yaml's errors are many; all mean "not a config"
                raise AvsError(f"config file {path} is not valid YAML: {exc}") from None
            if not isinstance(loaded, type(cfg)):
                raise AvsError(f"config file {path} must hold a mapping of options")
            cfg = OmegaConf.merge(cfg, loaded)
        if overrides:
            cfg = OmegaConf.merge(cfg, OmegaConf.from_dotlist(parse_overrides(list(overrides))))
    except OmegaConfBaseException as exc:
        raise AvsError(_explain(exc)) from None
    return cfg


def _explain(exc: Exception) -> str:
    key = getattr(exc, "full_key", None) or getattr(exc, "key", None)
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if type(exc).__name__ == "ConfigKeyError":
        return f"unknown option {key!r}" if key else f"unknown option: {first}"
    if key:
        return f"bad value for option {key!r}: {first}"
    return f"bad config: {first}"


def config_to_yaml(cfg: Any) -> str:
    """The config as YAML text (for ``avs info`` and checkpoint metadata)."""
    from omegaconf import OmegaConf

    return OmegaConf.to_yaml(cfg)


def config_to_dict(cfg: Any) -> dict:
    """The config as plain Python containers (JSON-serialisable)."""
    from omegaconf import OmegaConf

    return OmegaConf.to_container(cfg, resolve=True)  # type: ignore[return-value]


def yaml_overrides(path: str | Path) -> list[str]:
    """A YAML file of options as dotted ``key=value`` overrides (``model.width=64``), in file order.

    Lists and other non-mapping values are written in YAML flow style (``train.lr_milestones=[-3]``).

    Raises:
        AvsError: a missing file, invalid YAML, or a file that is not a mapping.
    """
    import yaml

    path = Path(path)
    if not path.is_file():
        raise AvsError(f"config file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise AvsError(f"config file {path} is not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise AvsError(f"config file {path} must hold a mapping of options")

    def flat(prefix: str, value: Any) -> list[str]:
        if isinstance(value, dict) and value:
            return [item for k, v in value.items() for item in flat(f"{prefix}{k}.", v)]
        text = yaml.safe_dump(value, default_flow_style=True, width=10**6).strip()
        return [f"{prefix[:-1]}={text.removesuffix(chr(10) + '...').strip()}"]

    return flat("", data)


def experiment_configs(folder: str | Path) -> dict[str, Path]:
    """The experiment files of a plugin: ``{stem: path}`` of every ``*.yaml`` in ``folder``, sorted."""
    folder = Path(folder)
    return {p.stem: p for p in sorted(folder.glob("*.yaml"))} if folder.is_dir() else {}


def resolve_experiment(method: Any, value: str | Path) -> Path:
    """``--config`` as a file: an existing YAML path, or the name of one of ``method.configs``.

    Raises:
        AvsError: neither a file nor a known experiment name (the known names are listed).
    """
    path = Path(value)
    if path.is_file():
        return path
    configs = getattr(method, "configs", {}) or {}
    if str(value) in configs:
        return Path(configs[str(value)])
    if path.suffix.lower() in (".yaml", ".yml") or len(path.parts) > 1:
        raise AvsError(f"config file not found: {path}")
    known = ", ".join(configs) or "none"
    raise AvsError(f"config {str(value)!r} is neither a file nor an experiment of {method.name} (known: {known})")
