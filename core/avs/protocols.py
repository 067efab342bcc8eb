"""What a method is made of: the protocols a plugin's parts satisfy.

These are structural (``typing.Protocol``): a plugin never subclasses anything from
core, it only provides objects of this shape. Tensors are ``torch.Tensor`` at run
time; the annotations say ``Any`` so that importing this module does not import torch.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Protocol, runtime_checkable

import numpy as np

from avs.motion import Motion

Batch = Mapping[str, Any]
"""A collated batch: names → tensors with the batch first (the method defines the names)."""

Stats = dict[str, np.ndarray]
"""Normalisation statistics computed from a training split (e.g. per-speaker mean/std).
Stored in the checkpoint's metadata, never hard-coded."""


@runtime_checkable
class Dataset(Protocol):
    """One split of a method's on-disk data set, map-style like ``torch.utils.data.Dataset``.

    ``__getitem__`` returns a dict of numpy arrays (one training window); torch's default
    collate turns a list of them into a :data:`Batch`.
    """

    def __len__(self) -> int: ...

    def __getitem__(self, index: int) -> dict[str, np.ndarray]: ...


@runtime_checkable
class Generator(Protocol):
    """A ``torch.nn.Module`` mapping a batch's audio features to motion (normalised units)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any: ...

    def parameters(self) -> Iterator[Any]: ...


@runtime_checkable
class Discriminator(Protocol):
    """A ``torch.nn.Module`` scoring motion as real or generated (e.g. PatchGAN patch scores)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any: ...

    def parameters(self) -> Iterator[Any]: ...


@runtime_checkable
class Renderer(Protocol):
    """Turns a :class:`~avs.motion.Motion` into video frames.

    Attributes:
        size: ``(height, width)`` of every frame in pixels.
    """

    size: tuple[int, int]

    def frames(self, motion: Motion) -> Iterator[np.ndarray]:
        """Yield exactly ``motion.num_frames`` frames, each (H, W, 3) uint8 RGB."""
        ...


@runtime_checkable
class Metric(Protocol):
    """A named score comparing a prediction with ground truth.

    Attributes:
        name: output key, naming the variant (e.g. ``pck@0.2``).
        unit: e.g. ``"px"``, ``"normalised"``, ``"fraction"``.
        higher_is_better: direction of improvement.
    """

    name: str
    unit: str
    higher_is_better: bool

    def __call__(self, pred: np.ndarray, gt: np.ndarray) -> float: ...
