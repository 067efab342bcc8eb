"""The record a plugin registers for each method it provides.

A plugin returns :class:`Method` objects from its ``avs_methods`` hook. The record is
cheap to build: every field that needs torch is a *factory* (a function that imports
what it needs when called), so ``avs plugins`` never loads torch.

Ownership (DESIGN.md, "The plugin contract"): core owns the loop, the optimisers'
stepping, checkpointing, logging and distribution; the plugin owns networks, losses
and the data format.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from avs.errors import AvsError
from avs.motion import Motion
from avs.protocols import Batch, Dataset, Discriminator, Generator, Renderer, Stats


class lazy:  # noqa: N801 - used like a function: build_generator=lazy("pkg.model:build_generator")
    """A factory that imports ``"package.module:function"`` only when it is first called.

    Plugins register their factories with it so that importing the plugin's entry module (what
    ``avs plugins`` does) never imports torch or the plugin's heavy modules.

    Raises:
        ValueError: a target not of the form ``module:attribute`` (a plugin author's error).
        AvsError: when called, if the module cannot be imported or has no such attribute.
    """

    def __init__(self, target: str) -> None:
        module, sep, attr = target.partition(":")
        if not sep or not module or not attr:
            raise ValueError(f"lazy target must be 'module:attribute', got {target!r}")
        self.module, self.attr = module, attr
        self._fn: Callable[..., Any] | None = None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._fn is None:
            import importlib

            try:
                self._fn = getattr(importlib.import_module(self.module), self.attr)
            except (ImportError, AttributeError) as exc:
                raise AvsError(f"cannot load {self.module}:{self.attr}: {exc}") from None
        return self._fn(*args, **kwargs)

    def __repr__(self) -> str:
        return f"lazy({self.module}:{self.attr})"


TASKS = ("gesture-2d", "face-blendshape", "face-3dmm", "face-image")
"""Known task names; ``avs benchmark`` groups methods by task."""

Loss = tuple[Any, dict[str, float]]
"""A scalar loss tensor to back-propagate, and the named float values to log."""


@dataclass(frozen=True)
class Method:
    """Everything core needs to train, run and evaluate one method.

    Attributes:
        name: the CLI name (``avs train <name>``); lower case, ``[a-z0-9-]``.
        task: one of :data:`TASKS`.
        summary: one line for ``avs plugins``.
        paper: citation (authors, title, venue, year) and reference-code URL.
        version: the plugin distribution's version, recorded in checkpoints.
        config_class: a dataclass of defaults; must have a ``train`` field of
            :class:`avs.config.TrainConfig`.
        sample_rate: audio rate in Hz the method consumes.
        fps: motion frame rate of the output.
        build_generator: ``cfg -> Generator`` (an ``nn.Module``).
        compute_stats: ``(cfg, data_root) -> Stats`` from the training split.
        build_dataset: ``(cfg, data_root, split, stats) -> Dataset``; ``split`` is
            ``"train"``, ``"dev"`` or ``"test"``.
        generator_loss: ``(G, D or None, batch, cfg) -> (loss, logs)``.
        validate: ``(G, batch, cfg) -> {name: value}`` under ``torch.no_grad``; the
            trainer averages it over the dev split and keeps the best checkpoint by
            ``val_key`` (lower is better).
        predict: ``(G, audio, cfg, stats) -> Motion``; ``audio`` is mono float32 at
            ``sample_rate``; any length.
        build_renderer: ``(cfg, stats) -> Renderer``.
        evaluate: ``(G, dataset, cfg, stats) -> {metric name: value}``.
        metric_directions: ``{metric name: True if higher is better}`` for ``evaluate``'s keys.
        build_discriminator: ``cfg -> Discriminator``, or None for a method without a GAN.
        discriminator_loss: ``(G, D, batch, cfg) -> (loss, logs)``; required with a discriminator.
        synthesize_data: ``(root, cfg, seed) -> summary text``: writes a small learnable
            data set in the method's on-disk format, or None if the method has none.
        default_checkpoint: path of a bundled checkpoint for ``avs predict`` without
            ``--checkpoint``, or None.
        val_key: key of ``validate``'s output used to select the best checkpoint.
        import_weights: ``(reference_file, cfg, data_root or None) -> (state_dict, stats)``:
            maps a reference implementation's released weights onto this method's
            generator (for ``avs import``); ``stats`` may be computed from ``data_root``.
            None if the reference released nothing importable.
        collate: ``list of dataset items -> Batch`` for the DataLoader (e.g. padding
            variable-length clips with masks); None = torch's default collate.
        export_motion: ``(motion, video_path, cfg) -> [paths]``: extra files written beside
            the video by ``avs predict`` (e.g. CSV, curve plots); None = only the mp4/npz.
        render_examples: ``(G, dataset, cfg, stats, n, out_dir) -> [paths]``: videos of
            ``n`` clips (prediction beside ground truth) for ``avs evaluate --videos N``.
        predict_clips: ``(G, dataset, cfg, stats) -> avs.evaluation.GestureClips``: a split's
            predictions and ground truth in pixels, for ``avs benchmark`` (gesture methods).
    """

    name: str
    task: str
    summary: str
    paper: str
    version: str
    config_class: type
    sample_rate: int
    fps: float
    build_generator: Callable[[Any], Generator]
    compute_stats: Callable[[Any, Path], Stats]
    build_dataset: Callable[[Any, Path, str, Stats], Dataset]
    generator_loss: Callable[[Generator, Discriminator | None, Batch, Any], Loss]
    validate: Callable[[Generator, Batch, Any], dict[str, float]]
    predict: Callable[[Generator, np.ndarray, Any, Stats], Motion]
    build_renderer: Callable[[Any, Stats], Renderer]
    evaluate: Callable[[Generator, Dataset, Any, Stats], dict[str, float]]
    metric_directions: dict[str, bool] = field(default_factory=dict)
    build_discriminator: Callable[[Any], Discriminator] | None = None
    discriminator_loss: Callable[[Generator, Discriminator, Batch, Any], Loss] | None = None
    synthesize_data: Callable[[Path, Any, int], str] | None = None
    default_checkpoint: Path | None = None
    val_key: str = "l1"
    import_weights: Callable[[Path, Any, Path | None], tuple[dict[str, Any], Stats]] | None = None
    collate: Callable[[list[Any]], Batch] | None = None
    export_motion: Callable[[Motion, Path, Any], list[Path]] | None = None
    render_examples: Callable[[Generator, Dataset, Any, Stats, int, Path], list[Path]] | None = None
    predict_clips: Callable[[Generator, Dataset, Any, Stats], Any] | None = None

    def validate_record(self) -> None:
        """Check the record's own consistency.

        Raises:
            AvsError: for a bad name, an unknown task, a discriminator without its loss,
                or a config class that is not a dataclass with a ``train`` field.
        """
        import dataclasses
        import re

        if not re.fullmatch(r"[a-z][a-z0-9-]*", self.name):
            raise AvsError(f"method name {self.name!r} must be lower case letters, digits and '-'")
        if self.task not in TASKS:
            raise AvsError(f"method {self.name}: unknown task {self.task!r} (known: {', '.join(TASKS)})")
        if (self.build_discriminator is None) != (self.discriminator_loss is None):
            raise AvsError(f"method {self.name}: a discriminator needs a discriminator_loss and vice versa")
        if not dataclasses.is_dataclass(self.config_class):
            raise AvsError(f"method {self.name}: config_class must be a dataclass")
        if "train" not in {f.name for f in dataclasses.fields(self.config_class)}:
            raise AvsError(f"method {self.name}: config_class needs a 'train' field (avs.config.TrainConfig)")
        if self.sample_rate <= 0 or self.fps <= 0:
            raise AvsError(f"method {self.name}: sample_rate and fps must be positive")
