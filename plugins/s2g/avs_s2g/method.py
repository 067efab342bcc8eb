"""Speech2Gesture's implementation class: networks, losses, data, inference and evaluation wired
into :class:`avs.api.MethodImpl` (the functions live in ``model``, ``recipe``, ``data``,
``inference``, ``render`` and ``synth``)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from avs.api import GestureClips, MethodImpl, Motion
from avs_s2g import data, inference, model, recipe, render, synth


class S2GMethod(MethodImpl):
    """Ginosar et al. 2019: U-Net audio→pose generator and PatchGAN discriminator, LSGAN + L1.

    Networks: ``generator`` (log-mel (B, 418, 64) → normalised pose (B, T, 98)) and
    ``discriminator`` (pose (B, T, 98) → patch scores); default Adam optimisers from ``cfg.train``.
    """

    val_key = "l1"

    def __init__(self, cfg: Any, stats: Mapping[str, np.ndarray]) -> None:
        super().__init__(cfg, stats)
        self.generator = model.build_generator(cfg)
        self.discriminator = model.build_discriminator(cfg)

    def networks(self) -> dict[str, torch.nn.Module]:
        return {"generator": self.generator, "discriminator": self.discriminator}

    @classmethod
    def compute_stats(cls, cfg: Any, data_root: Path) -> dict[str, np.ndarray]:
        return data.compute_stats(cfg, data_root)

    @classmethod
    def synthesize_data(cls, root: Path, cfg: Any, seed: int) -> str:
        return synth.synthesize(root, cfg, seed)

    def build_dataset(self, data_root: Path, split: str) -> data.S2GDataset:
        return data.build_dataset(self.cfg, data_root, split, self.stats)

    def generator_step(self, batch: Any) -> tuple[torch.Tensor, dict[str, float]]:
        return recipe.generator_loss(self.training_network("generator"), self.discriminator, batch, self.cfg)

    def discriminator_step(self, batch: Any) -> tuple[torch.Tensor, dict[str, float]]:
        return recipe.discriminator_loss(self.generator, self.training_network("discriminator"), batch, self.cfg)

    def validate(self, batch: Any) -> dict[str, float]:
        return recipe.validate(self.generator, batch, self.cfg)

    def predict(self, audio: np.ndarray, inputs: Mapping[str, Path] | None = None) -> Motion:
        return inference.predict(self.generator, audio, self.cfg, self.stats)

    def renderer(self) -> Any:
        return render.build_renderer(self.cfg, self.stats)

    def evaluate(self, dataset: Any) -> dict[str, float]:
        return inference.evaluate(self.generator, dataset, self.cfg, self.stats)

    def predict_clips(self, dataset: Any) -> GestureClips:
        return inference.predict_clips(self.generator, dataset, self.cfg, self.stats)

    def render_examples(self, dataset: Any, n: int, out_dir: Path) -> list[Path]:
        return render.render_examples(self.generator, dataset, self.cfg, self.stats, n, out_dir)
