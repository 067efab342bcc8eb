"""Speech Drives Templates' implementation class: the four variants' networks, losses, data,
inference and evaluation wired into :class:`avs.api.MethodImpl` (the functions live in ``model``,
``recipe``, ``data``, ``inference``, ``render``, ``importer`` and ``synth``)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from omegaconf import OmegaConf

from avs.api import MethodImpl, Motion
from avs_sdt import data, importer, inference, model, recipe, render, synth
from avs_sdt.config import check_variant


def with_template_count(cfg: Any, stats: Mapping[str, np.ndarray]) -> Any:
    """``cfg`` with ``model.num_templates`` = the training clips in ``stats`` (SDT-BP's table size).

    The table has one row per training clip (``stats["clip_speaker"]``); other variants keep 0.
    Returns a new config; ``cfg`` is not modified.
    """
    n = len(stats["clip_speaker"]) if check_variant(cfg) == "sdt-bp" and "clip_speaker" in stats else 0
    return OmegaConf.merge(cfg, {"model": {"num_templates": int(n)}}) if n else cfg


class SDTMethod(MethodImpl):
    """Qian et al. 2021, variants ``sdt-bp``, ``sdt-vae``, ``s2g`` (with a discriminator) and ``pose-vae``.

    Networks: ``generator`` (mel → normalised 121-keypoint pose (B, 64, 242)) and, for ``s2g``,
    ``discriminator``. The SDT-BP template table's size comes from the statistics (one row per
    training clip), so the config is completed here, never by ``compute_stats``.
    """

    val_key = "l1"

    def __init__(self, cfg: Any, stats: Mapping[str, np.ndarray]) -> None:
        super().__init__(with_template_count(cfg, stats), stats)
        self.generator = model.build_generator(self.cfg)
        self.discriminator = model.build_discriminator(self.cfg)

    def networks(self) -> dict[str, torch.nn.Module]:
        nets = {"generator": self.generator}
        if self.discriminator is not None:
            nets["discriminator"] = self.discriminator
        return nets

    @classmethod
    def compute_stats(cls, cfg: Any, data_root: Path) -> dict[str, np.ndarray]:
        return data.compute_stats(cfg, data_root)

    @classmethod
    def synthesize_data(cls, root: Path, cfg: Any, seed: int) -> str:
        return synth.synthesize(root, cfg, seed)

    @classmethod
    def import_weights(cls, reference: Path, cfg: Any, data_root: Path | None) -> tuple[Any, ...]:
        fitted = copy.deepcopy(cfg)  # the importer fits variant, width and norm to the weights
        state, stats = importer.import_weights(reference, fitted, data_root)
        return state, stats, fitted

    def build_dataset(self, data_root: Path, split: str) -> data.SDTDataset:
        return data.build_dataset(self.cfg, data_root, split, self.stats)

    def generator_step(self, batch: Any) -> tuple[torch.Tensor, dict[str, float]]:
        return recipe.generator_loss(self.training_network("generator"), self.discriminator, batch, self.cfg)

    def discriminator_step(self, batch: Any) -> tuple[torch.Tensor, dict[str, float]] | None:
        if self.discriminator is None:
            return None
        return recipe.discriminator_loss(self.generator, self.training_network("discriminator"), batch, self.cfg)

    def validate(self, batch: Any) -> dict[str, float]:
        return recipe.validate(self.generator, batch, self.cfg)

    def predict(self, audio: np.ndarray, inputs: Mapping[str, Path] | None = None) -> Motion:
        return inference.predict(self.generator, audio, self.cfg, self.stats)

    def renderer(self) -> Any:
        return render.build_renderer(self.cfg, self.stats)

    def evaluate(self, dataset: Any) -> dict[str, float]:
        return inference.evaluate(self.generator, dataset, self.cfg, self.stats)

    def predict_clips(self, dataset: Any) -> Any:
        return inference.predict_clips(self.generator, dataset, self.cfg, self.stats)

    def render_examples(self, dataset: Any, n: int, out_dir: Path) -> list[Path]:
        return render.render_examples(self.generator, dataset, self.cfg, self.stats, n, out_dir)
