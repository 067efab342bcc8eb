"""The record a plugin registers for each method it provides (torch-free).

A plugin returns :class:`Method` objects from its ``avs_methods`` hook. The record holds only
what ``avs plugins`` and ``avs info`` show, plus ``impl``: a :class:`lazy` reference to the
method's implementation class (a subclass of :class:`avs.impl.MethodImpl`), imported only when
a command needs it. So listing plugins never loads torch.

Ownership (``docs/design.md``): core owns the loop, DDP, checkpoints, logging and video
writing; the implementation owns its networks, optimisers, losses, data and evaluation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from avs.errors import AvsError


class lazy:  # noqa: N801 - used like a function: impl=lazy("pkg.method:XMethod")
    """A reference to ``"package.module:attribute"`` imported only when first needed.

    ``resolve()`` returns the attribute (e.g. a class); calling the lazy object calls it.
    Importing the plugin's entry module (what ``avs plugins`` does) therefore never imports
    torch or the plugin's heavy modules.

    Raises:
        ValueError: a target not of the form ``module:attribute`` (a plugin author's error).
        AvsError: on ``resolve()`` or a call, if the module cannot be imported or has no such attribute.
    """

    def __init__(self, target: str) -> None:
        module, sep, attr = target.partition(":")
        if not sep or not module or not attr:
            raise ValueError(f"lazy target must be 'module:attribute', got {target!r}")
        self.module, self.attr = module, attr
        self._fn: Any = None

    def resolve(self) -> Any:
        """The imported attribute (imported once, then cached)."""
        if self._fn is None:
            import importlib

            try:
                self._fn = getattr(importlib.import_module(self.module), self.attr)
            except (ImportError, AttributeError) as exc:
                raise AvsError(f"cannot load {self.module}:{self.attr}: {exc}") from None
        return self._fn

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.resolve()(*args, **kwargs)

    def __repr__(self) -> str:
        return f"lazy({self.module}:{self.attr})"


@dataclass(frozen=True)
class OnnxInference:
    """A method's torch-free inference path (``Method.onnx``): its network exported to ONNX, run with onnxruntime.

    ``avs export onnx METHOD CHECKPOINT`` builds the implementation from the checkpoint, asks ``graph`` for
    the module to export, exports it with ``torch.onnx.export`` and checks onnxruntime against torch on the
    graph's example inputs; the file lands beside the checkpoint (``name.safetensors`` → ``name.onnx``),
    bound to it by the checkpoint's SHA-256 in the ONNX metadata. ``avs predict --backend auto|onnx`` then
    builds ``runtime`` instead of the torch implementation, and nothing on that path imports torch.

    Attributes:
        graph: ``lazy("avs_x.export:onnx_graph")``: a function ``(impl: MethodImpl) -> avs.api.OnnxGraph``
            (imports torch; called at export time only).
        runtime: ``lazy("avs_x.runtime:XRuntime")``: a subclass of :class:`avs.runtime.OnnxRuntimeImpl`
            (must not import torch): ``predict``, ``renderer`` and ``export`` from the config, the
            statistics and an :class:`avs.runtime.OnnxSession`.
        tolerance: largest absolute difference between onnxruntime's and torch's outputs accepted at
            export (same units as the graph's outputs); a larger one fails the export.
    """

    graph: Any
    runtime: Any
    tolerance: float = 1e-4


TASKS = ("gesture-2d", "face-blendshape", "face-3dmm", "face-image")
"""Known task names; ``avs benchmark`` scores each task with its own suite."""


@dataclass(frozen=True)
class Method:
    """What ``avs plugins`` needs about one method, and where its implementation lives.

    Attributes:
        name: the CLI name (``avs train <name>``); lower case, ``[a-z0-9-]``.
        task: one of :data:`TASKS`.
        summary: one line for ``avs plugins``.
        paper: citation (authors, title, venue, year) and reference-code URL.
        config_class: a dataclass of defaults; must have a ``train`` field of
            :class:`avs.config.TrainConfig`.
        sample_rate: audio rate in Hz the method consumes.
        fps: motion frame rate of the output, frames per second.
        impl: ``lazy("avs_x.method:XMethod")`` (or the class itself): the
            :class:`avs.impl.MethodImpl` subclass, built once per run as ``XMethod(cfg, stats)``.
        default_checkpoint: path of a bundled checkpoint for ``avs predict`` without
            ``--checkpoint``, or None.
        metric_directions: ``{metric name: True if higher is better}`` for the keys of the
            implementation's ``evaluate`` (shown by ``avs evaluate``, merged into ``avs benchmark``).
        predict_inputs: names of extra inputs ``predict`` accepts besides the audio (files given
            as ``--input NAME=PATH``), e.g. ``("face",)``.
        configs: named experiment files (``paper``, ``small``, ...) → YAML path, for
            ``avs train --config NAME`` and ``avs info``; by default the YAML files in the
            plugin's ``configs`` folder found by discovery.
        onnx: an optional :class:`OnnxInference`: how the method predicts without torch.
        version: the plugin distribution's version; set by discovery from package metadata
            (not an argument), recorded in checkpoints.
    """

    name: str
    task: str
    summary: str
    paper: str
    config_class: type
    sample_rate: int
    fps: float
    impl: Any
    default_checkpoint: Path | None = None
    metric_directions: dict[str, bool] = field(default_factory=dict)
    predict_inputs: tuple[str, ...] = ()
    configs: dict[str, Path] = field(default_factory=dict)
    onnx: OnnxInference | None = None
    version: str = field(default="0+unknown", init=False, compare=False)

    def impl_class(self) -> type:
        """The implementation class, bound to this record (``cls.method``); imports its module on first use.

        Raises:
            AvsError: the module cannot be imported, or ``impl`` is not a MethodImpl subclass.
        """
        target = self.impl.resolve() if isinstance(self.impl, lazy) else self.impl
        from avs.impl import MethodImpl

        if not (isinstance(target, type) and issubclass(target, MethodImpl)):
            raise AvsError(f"method {self.name}: impl {self.impl!r} is not a subclass of avs.impl.MethodImpl")
        target.method = self
        return target

    def with_version(self, version: str) -> Method:
        """This record with ``version`` set (discovery calls it with the distribution's version)."""
        object.__setattr__(self, "version", str(version))
        return self

    def with_configs(self, configs: dict[str, Path]) -> Method:
        """This record with ``configs`` set when it has none (discovery passes the plugin's ``configs/*.yaml``)."""
        if not self.configs:
            object.__setattr__(self, "configs", dict(configs))
        return self

    def validate_record(self) -> None:
        """Check the record's own consistency (without importing the implementation).

        Raises:
            AvsError: for a bad name, an unknown task, a config class that is not a dataclass
                with a ``train`` field, non-positive rates, or an ``impl`` that is neither a
                :class:`lazy` nor a class.
        """
        import dataclasses
        import re

        if not re.fullmatch(r"[a-z][a-z0-9-]*", self.name):
            raise AvsError(f"method name {self.name!r} must be lower case letters, digits and '-'")
        if self.task not in TASKS:
            raise AvsError(f"method {self.name}: unknown task {self.task!r} (known: {', '.join(TASKS)})")
        if not dataclasses.is_dataclass(self.config_class):
            raise AvsError(f"method {self.name}: config_class must be a dataclass")
        if "train" not in {f.name for f in dataclasses.fields(self.config_class)}:
            raise AvsError(f"method {self.name}: config_class needs a 'train' field (avs.config.TrainConfig)")
        if self.sample_rate <= 0 or self.fps <= 0:
            raise AvsError(f"method {self.name}: sample_rate and fps must be positive")
        if not isinstance(self.impl, (lazy, type)):
            raise AvsError(f"method {self.name}: impl must be lazy('module:Class') or a class")
        if self.onnx is not None and not isinstance(self.onnx, OnnxInference):
            raise AvsError(f"method {self.name}: onnx must be an avs.api.OnnxInference or None")
