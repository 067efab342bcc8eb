"""The implementation side of a method: one class a plugin subclasses (in the spirit of LightningModule).

Core builds it once per run as ``XMethod(cfg, stats)`` and drives it: the trainer calls
:meth:`MethodImpl.networks`, :meth:`~MethodImpl.configure_optimizers`, :meth:`~MethodImpl.lr_scale`,
:meth:`~MethodImpl.discriminator_step` and :meth:`~MethodImpl.generator_step`; ``avs predict`` calls
:meth:`~MethodImpl.predict`, :meth:`~MethodImpl.renderer` and :meth:`~MethodImpl.export`; ``avs evaluate``
and ``avs benchmark`` call :meth:`~MethodImpl.evaluate`, :meth:`~MethodImpl.predict_clips` and
:meth:`~MethodImpl.render_examples`. A capability the subclass does not override is one the method
lacks: core calling it gives a one-line :class:`~avs.errors.AvsError` ("s2g cannot import weights").

Importing this module does not import torch (plugins' entry modules import :mod:`avs.api`, which
re-exports this class); torch is imported inside the defaults that need it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from avs.errors import AvsError
from avs.motion import Motion
from avs.protocols import Batch, Dataset, Renderer, Stats

CAPABILITIES: dict[str, str] = {
    "compute_stats": "compute statistics",
    "build_dataset": "read a data set",
    "synthesize_data": "synthesize data",
    "import_weights": "import weights",
    "networks": "build networks",
    "generator_step": "train",
    "discriminator_step": "train a discriminator",
    "validate": "validate",
    "predict": "predict",
    "renderer": "render video",
    "export": "export extra files",
    "evaluate": "evaluate",
    "predict_clips": "predict clips for avs benchmark",
    "render_examples": "render example videos",
}
"""Overridable methods of :class:`MethodImpl` → the phrase of their "cannot" error."""


def learning_rate_factor(milestones: Any, gamma: float, epochs: int, epoch: int) -> float:
    """Step decay: ``gamma`` to the number of milestones already passed before ``epoch`` (1-based).

    As ``torch.optim.lr_scheduler.MultiStepLR`` stepped once per epoch; a negative milestone
    counts from the end (``-10`` = ``epochs - 10``: SDT's schedule, Qian et al. 2021). A pure
    function of the epoch, so a resumed run needs no scheduler state.
    """
    passed = 0
    for m in milestones or ():
        at = epochs + int(m) if int(m) < 0 else int(m)
        if 0 < at <= epoch - 1:  # a milestone at or before the start never fires (as MultiStepLR)
            passed += 1
    return float(gamma) ** passed


class MethodImpl:
    """Base class of a method's implementation; built once per run as ``XMethod(cfg, stats)``.

    A subclass builds its networks in ``__init__`` (after ``super().__init__(cfg, stats)``) and
    overrides the capabilities it has. Inside, ``self.cfg`` is the merged config (OmegaConf,
    typed by the method's ``config_class``), ``self.stats`` the normalisation statistics,
    ``self.device`` the torch device core placed the networks on, ``self.method`` the
    :class:`avs.method.Method` record (set by core).

    Attributes:
        val_key: key of :meth:`validate`'s output that picks the best checkpoint (lower is better).
        inference_networks: names (keys of :meth:`networks`) saved in checkpoints and loaded for
            inference; every network is kept in the training state.
    """

    val_key: ClassVar[str] = "l1"
    inference_networks: ClassVar[tuple[str, ...]] = ("generator",)
    method: ClassVar[Any] = None
    meta_init: ClassVar[bool] = False
    """True when every tensor of the networks is in their state dicts, so that :func:`avs.checkpoint.load_impl`
    may build them on the meta device and take the checkpoint's tensors as parameters (no random
    initialisation, no second copy: what a network of hundreds of millions of parameters needs)."""

    def __init__(self, cfg: Any, stats: Stats) -> None:
        self.cfg = cfg
        self.stats: Stats = dict(stats)
        self.device: Any = "cpu"
        self.wrapped: dict[str, Any] = {}

    # ------------------------------------------------------------------ capabilities

    @classmethod
    def method_name(cls) -> str:
        """The method's CLI name (or the class name before core bound the record)."""
        return cls.method.name if cls.method is not None else cls.__name__

    @classmethod
    def cannot(cls, capability: str) -> AvsError:
        """The one-line error for a capability the method lacks (``"<name> cannot <phrase>"``)."""
        return AvsError(f"{cls.method_name()} cannot {CAPABILITIES.get(capability, capability)}")

    @classmethod
    def capabilities(cls) -> set[str]:
        """Names of :data:`CAPABILITIES` this class overrides (``collate``, ``lr_scale``... always exist)."""
        return {name for name in CAPABILITIES if _overrides(cls, name)}

    @classmethod
    def require(cls, capability: str) -> None:
        """Raise :meth:`cannot`'s error unless ``capability`` is overridden."""
        if capability not in cls.capabilities():
            raise cls.cannot(capability)

    # ------------------------------------------------------------------ data

    @classmethod
    def compute_stats(cls, cfg: Any, data_root: Path) -> Stats:
        """Normalisation statistics of the training split (stored in checkpoints).

        Args:
            cfg: the merged config.
            data_root: the data set's root folder, in the method's own format.

        Returns:
            ``{name: np.ndarray}`` (numeric or string arrays).

        Raises:
            AvsError: the folder is not a data set of this method.
        """
        raise cls.cannot("compute_stats")

    @classmethod
    def synthesize_data(cls, root: Path, cfg: Any, seed: int) -> str:
        """Write a small learnable data set in the method's on-disk format; return a one-line summary.

        Raises:
            AvsError: ``root`` exists and is not empty (or cannot be written).
        """
        raise cls.cannot("synthesize_data")

    @classmethod
    def import_weights(cls, reference: Path, cfg: Any, data_root: Path | None) -> tuple[dict[str, Any], Stats]:
        """Map a reference implementation's released weights onto this method's networks.

        Args:
            reference: the released file (read with ``torch.load(weights_only=True)`` or safetensors).
            cfg: the config the networks will be built with (core builds ``cls(cfg, stats)``).
            data_root: a data set to compute statistics from, or None.

        Returns:
            ``(state, stats)``: ``state`` maps network name → state dict (or is the generator's
            state dict alone); ``stats`` the normalisation statistics.

        Raises:
            AvsError: not the reference's format, missing statistics.
        """
        raise cls.cannot("import_weights")

    def build_dataset(self, data_root: Path, split: str) -> Dataset:
        """One split (``"train"``, ``"dev"`` or ``"test"``) as a map-style dataset of dict items.

        Raises:
            AvsError: the folder is not this method's format; the split does not exist.
        """
        raise self.cannot("build_dataset")

    def collate(self, items: list[Any]) -> Batch:
        """Items → one batch for the DataLoader (default: torch's ``default_collate``)."""
        from torch.utils.data import default_collate

        return default_collate(items)

    # ------------------------------------------------------------------ networks & optimisation

    def networks(self) -> dict[str, Any]:
        """``{"generator": G, "discriminator": D, ...}``: every ``torch.nn.Module`` the method trains.

        Core moves each to the device, wraps each apart in ``DistributedDataParallel`` under
        ``torchrun`` (see :attr:`wrapped`), keeps all in the training state, and saves
        :attr:`inference_networks` in checkpoints.
        """
        raise self.cannot("networks")

    def training_network(self, name: str) -> Any:
        """The network ``name`` as core wrapped it for training (DDP under ``torchrun``, else itself).

        Use it for the network whose optimiser the current step updates; use the plain network
        (``self.networks()[name]``) for one that is frozen during the step.
        """
        wrapped = self.wrapped.get(name)
        return wrapped if wrapped is not None else self.networks()[name]

    def configure_optimizers(self) -> dict[str, Any]:
        """``{"generator": opt_g, "discriminator": opt_d}`` (any ``torch.optim.Optimizer``).

        Default: Adam with ``cfg.train.lr_g`` / ``lr_d`` and ``(beta1, beta2)`` over the
        ``generator`` and, if present, the ``discriminator`` network. Each group's ``lr`` as
        built here is the initial rate that :meth:`lr_scale` multiplies.
        """
        import torch

        t, nets = self.cfg.train, self.networks()
        betas = (float(t.beta1), float(t.beta2))
        opts = {"generator": torch.optim.Adam(nets["generator"].parameters(), lr=float(t.lr_g), betas=betas)}
        if nets.get("discriminator") is not None:
            opts["discriminator"] = torch.optim.Adam(nets["discriminator"].parameters(), lr=float(t.lr_d),
                                                     betas=betas)
        return opts

    def lr_scale(self, epoch: int, step: int) -> float:
        """Factor on every group's initial learning rate at ``epoch`` (1-based) and global ``step``.

        Default: the epoch-milestone step decay of ``cfg.train.lr_milestones`` / ``lr_gamma``
        (:func:`learning_rate_factor`). Must be a pure function, so resuming needs no scheduler state.
        """
        t = self.cfg.train
        return learning_rate_factor(t.lr_milestones, t.lr_gamma, int(t.epochs), epoch)

    def generator_step(self, batch: Batch) -> tuple[Any, dict[str, float]]:
        """The generator's loss on one batch (networks in train mode, discriminator frozen).

        Returns:
            ``(scalar loss tensor to back-propagate, {name: float} to log)``.
        """
        raise self.cannot("generator_step")

    def discriminator_step(self, batch: Batch) -> tuple[Any, dict[str, float]] | None:
        """The discriminator's loss on one batch (generator frozen); ``cfg.train.d_steps`` times per
        generator step. Not overridden, or returning None: the method has no discriminator step."""
        return None

    def validate(self, batch: Batch) -> dict[str, float]:
        """Validation values of one dev batch (under ``torch.no_grad``, networks in eval mode).

        Core averages them over the dev split (weighted by batch size, all ranks) and keeps the
        best checkpoint by :attr:`val_key` (lower is better).
        """
        raise self.cannot("validate")

    # ------------------------------------------------------------------ inference & output

    def predict(self, audio: np.ndarray, inputs: Mapping[str, Path] | None = None) -> Motion:
        """Motion for one utterance.

        Args:
            audio: (S,) mono float32 in [-1, 1] at ``method.sample_rate``; any length of at least one frame.
            inputs: extra inputs named in ``method.predict_inputs`` → file paths.

        Returns:
            A :class:`~avs.motion.Motion` at ``method.fps`` (core crops/pads it to the audio's length).

        Raises:
            AvsError: unusable audio or inputs.
        """
        raise self.cannot("predict")

    def renderer(self) -> Renderer:
        """The renderer turning this method's :class:`~avs.motion.Motion` into RGB frames."""
        raise self.cannot("renderer")

    def export(self, motion: Motion, video_path: Path) -> list[Path]:
        """Extra files written beside ``video_path`` by ``avs predict`` (CSV, plots...); default none."""
        return []

    # ------------------------------------------------------------------ evaluation

    def evaluate(self, dataset: Dataset) -> dict[str, float]:
        """``{metric: value}`` on a split (directions in ``method.metric_directions``)."""
        raise self.cannot("evaluate")

    def predict_clips(self, dataset: Dataset) -> Any:
        """The split's predictions and ground truth in the task's clip container
        (e.g. :class:`avs.evaluation.GestureClips`), for ``avs benchmark``."""
        raise self.cannot("predict_clips")

    def render_examples(self, dataset: Dataset, n: int, out_dir: Path) -> list[Path]:
        """Videos of ``n`` clips (prediction beside ground truth) into ``out_dir`` (``avs evaluate --videos``)."""
        raise self.cannot("render_examples")

    @classmethod
    def inference_dtype(cls, cfg: Any, device: Any) -> str:
        """The floating-point precision of the networks when loaded for inference (``float32``,
        ``bfloat16`` or ``float16``); :func:`avs.checkpoint.load_impl` converts the checkpoint's
        floating tensors to it as it reads them. Training always runs in float32.

        Args:
            cfg: the merged config; device: the :class:`torch.device` inference runs on.
        """
        return "float32"

    # ------------------------------------------------------------------ helpers for core

    def to(self, device: Any) -> MethodImpl:
        """Move every network to ``device`` and remember it as ``self.device``."""
        self.device = device
        for net in self.networks().values():
            net.to(device)
        return self

    def set_mode(self, train: bool) -> None:
        """Put every network in train (``True``) or eval mode."""
        for net in self.networks().values():
            net.train(train)


def _overrides(cls: type, name: str) -> bool:
    base = MethodImpl.__dict__[name]
    mine = next((klass.__dict__[name] for klass in cls.__mro__ if name in klass.__dict__), base)
    unwrap = (lambda f: getattr(f, "__func__", f))  # noqa: E731 - classmethod objects
    return unwrap(mine) is not unwrap(base)
