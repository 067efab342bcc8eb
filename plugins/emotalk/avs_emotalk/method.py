"""EmoTalk's implementation class: network, objective, data, inference, export and evaluation wired
into :class:`avs.api.MethodImpl` (the functions live in ``model``, ``recipe``, ``data``,
``inference``, ``export``, ``render``, ``importer`` and ``synth``)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from avs.api import AvsError, BlendshapeClips, MethodImpl, Motion
from avs_emotalk import data, export, importer, inference, model, recipe, render, synth
from avs_emotalk.arkit import EYES_BROWS, MOUTH_JAW


class EmoTalkMethod(MethodImpl):
    """Peng et al. 2023: wav2vec2 content/emotion encoders and a transformer decoder → 52 ARKit blendshapes.

    One network, ``generator``; no discriminator. Batches are padded by :meth:`collate`.
    """

    val_key = "mse"
    meta_init = True  # every tensor of the network is in its state dict: loaded without a random initialisation

    @classmethod
    def inference_dtype(cls, cfg: Any, device: Any) -> str:
        """``infer.dtype``, with ``auto`` resolved (:func:`avs_emotalk.model.resolve_dtype`)."""
        return model.resolve_dtype(cfg, device)

    def __init__(self, cfg: Any, stats: Mapping[str, np.ndarray]) -> None:
        super().__init__(cfg, stats)
        self.generator = model.build_generator(cfg)

    def networks(self) -> dict[str, torch.nn.Module]:
        return {"generator": self.generator}

    @classmethod
    def compute_stats(cls, cfg: Any, data_root: Path) -> dict[str, np.ndarray]:
        return data.compute_stats(cfg, data_root)

    @classmethod
    def synthesize_data(cls, root: Path, cfg: Any, seed: int) -> str:
        return synth.synthesize(root, cfg, seed)

    @classmethod
    def import_weights(cls, reference: Path, cfg: Any, data_root: Path | None) -> tuple[Any, ...]:
        return importer.import_weights(reference, cfg, data_root)

    def build_dataset(self, data_root: Path, split: str) -> data.EmoTalkDataset:
        return data.build_dataset(self.cfg, data_root, split, self.stats)

    def collate(self, items: list[Any]) -> dict[str, Any]:
        return data.collate(items)

    def generator_step(self, batch: Any) -> tuple[torch.Tensor, dict[str, float]]:
        return recipe.generator_loss(self.training_network("generator"), None, batch, self.cfg)

    def validate(self, batch: Any) -> dict[str, float]:
        return recipe.validate(self.generator, batch, self.cfg)

    def predict(self, audio: np.ndarray, inputs: Mapping[str, Path] | None = None) -> Motion:
        return inference.predict(self.generator, audio, self.cfg, self.stats)

    def renderer(self) -> Any:
        return render.build_renderer(self.cfg, self.stats)

    def export(self, motion: Motion, video_path: Path) -> list[Path]:
        return export.export_motion(motion, video_path, self.cfg)

    def evaluate(self, dataset: Any) -> dict[str, float]:
        return inference.evaluate(self.generator, dataset, self.cfg, self.stats)

    def predict_clips(self, dataset: Any) -> BlendshapeClips:
        """Every clip of a split predicted from its own audio, level and person, at its ground truth's
        length, post-processed as :meth:`evaluate` scores it (no scripted blinks).

        Returns:
            :class:`avs.api.BlendshapeClips` of (T_i, 52) weights at 30 fps with the ``mouth_jaw`` and
            ``eyes_brows`` regions, the training mean face, the rig of ``cfg.eval.rig`` (LVE/EVE) if set,
            and ``emotion_accuracy`` among the extras when clips carry a RAVDESS emotion.

        Raises:
            AvsError: an empty split, a bad rig file.
        """
        if len(dataset.clips) == 0:
            raise AvsError("nothing to evaluate: the split is empty")
        cfg, offset = self.cfg, data.output_offset(self.stats)
        preds, gts, correct, labelled = [], [], 0, 0
        for k, clip in enumerate(dataset.clips):
            gt = dataset.blendshapes(k)
            pred, probs = inference.predict_raw(self.generator, dataset.audio(k), cfg, -1, clip.level, clip.person,
                                                None, gt.shape[0], offset)
            preds.append(inference._without_blinks(pred, cfg))
            gts.append(np.asarray(gt, np.float32))
            if clip.emotion >= 0:
                labelled += 1
                correct += int(np.argmax(probs.mean(0)) == clip.emotion)
        rig = inference.load_rig(cfg.eval.rig) if str(cfg.eval.rig or "") else None
        mean = np.asarray(self.stats["mean"], np.float32).reshape(-1) if "mean" in self.stats else None
        extras = {"emotion_accuracy": correct / labelled} if labelled else {}
        return BlendshapeClips(preds, gts, float(self.method.fps), {"mouth_jaw": list(MOUTH_JAW),
                               "eyes_brows": list(EYES_BROWS)}, mean, rig, extras)

    def render_examples(self, dataset: Any, n: int, out_dir: Path) -> list[Path]:
        return render.render_examples(self.generator, dataset, self.cfg, self.stats, n, out_dir)
