"""RD-GAN's implementation class: networks, RMSProp schedule, dual losses, data, recursive inference and
evaluation wired into :class:`avs.api.MethodImpl` (the functions live in ``model``, ``losses``, ``data``,
``audio2landmark``, ``inference``, ``evaluate``, ``render`` and ``synth``)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from avs.api import AvsError, MethodImpl, Motion
from avs_rdgan import audio2landmark, data, inference, losses, model
from avs_rdgan.config import FPS


class RDGANMethod(MethodImpl):
    """Guo, Yan, Liu 2021: seed GAN + feature-preserving GAN, trained dually, animated recursively.

    Networks: ``generator`` (:class:`~avs_rdgan.model.RDGenerator`: seed and fine generators),
    ``discriminator`` (:class:`~avs_rdgan.model.DualCritics`: left/right × seed/fine critics) and
    ``audio2landmark`` (:class:`~avs_rdgan.audio2landmark.AudioToLandmarks`: buffers only, fitted in closed
    form by :meth:`compute_stats`, not by gradient). Optimisers: RMSProp, lr 1e-4 · 0.9^(iter/2000), weight
    decay 5e-4.
    """

    val_key = "l1"
    inference_networks = ("generator", "audio2landmark")

    def __init__(self, cfg: Any, stats: Mapping[str, np.ndarray]) -> None:
        super().__init__(cfg, stats)
        self.generator = model.build_generator(cfg)
        self.discriminator = model.build_critics(cfg)
        self.audio2landmark = audio2landmark.build_audio_model(cfg)
        audio2landmark.load_fitted(self.audio2landmark, self.stats)
        self._photo: np.ndarray | None = None

    def networks(self) -> dict[str, torch.nn.Module]:
        return {"generator": self.generator, "discriminator": self.discriminator,
                "audio2landmark": self.audio2landmark}

    # ------------------------------------------------------------------ data

    @classmethod
    def compute_stats(cls, cfg: Any, data_root: Path) -> dict[str, np.ndarray]:
        """Per-band log-mel mean and std of the training split, and the audio→landmark model fitted in
        closed form on it (ridge strength chosen on the dev split when there is one):
        :func:`avs_rdgan.audio2landmark.fit_opening_model`."""
        clips = data.load_clips(Path(data_root), "train", cfg)
        if not clips:
            raise AvsError(f"{data_root} has no training clips")
        stats = data.mel_stats(clips, cfg.model.mel_bands)
        try:
            dev = data.load_clips(Path(data_root), "dev", cfg)
        except AvsError:
            dev = []
        m = cfg.model
        stats.update(audio2landmark.fit_opening_model(clips, dev, int(m.mel_bands), int(m.a2l_context),
                                                      list(m.a2l_lambdas), stats))
        return stats

    @classmethod
    def synthesize_data(cls, root: Path, cfg: Any, seed: int) -> str:
        from avs_rdgan import synth

        return synth.synthesize(root, cfg, seed)

    def build_dataset(self, data_root: Path, split: str) -> data.PairDataset:
        clips = data.load_clips(Path(data_root), split, self.cfg)
        if not clips:
            raise AvsError(f"{data_root} has no {split} clips")
        d = self.cfg.data
        pairs = data.training_pairs(clips, d.max_gap) if split == "train" else data.test_pairs(clips, d.test_pairs)
        if len(pairs) == 0:
            raise AvsError(f"{data_root}: the {split} split has no pair of valid frames")
        return data.PairDataset(clips, pairs, d.a2l_frames, self.cfg.model.mel_bands)

    # ------------------------------------------------------------------ optimisation

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """RMSProp (reference): GANs and critics at ``optim.lr`` with weight decay (the audio→landmark model
        has no trainable parameters)."""
        o = self.cfg.optim
        kw = {"alpha": float(o.alpha), "eps": float(o.eps)}
        opt_g = torch.optim.RMSprop(self.generator.parameters(), lr=float(o.lr),
                                    weight_decay=float(o.weight_decay), **kw)
        opt_d = torch.optim.RMSprop(self.discriminator.parameters(), lr=float(o.lr),
                                    weight_decay=float(o.weight_decay), **kw)
        return {"generator": opt_g, "discriminator": opt_d}

    def lr_scale(self, epoch: int, step: int) -> float:
        """``decay_rate^(step / decay_steps)``: TensorFlow's ``exponential_decay`` (not staircase)."""
        o = self.cfg.optim
        return float(o.decay_rate) ** (step / float(o.decay_steps))

    def generator_step(self, batch: Mapping[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, float]]:
        return losses.generator_loss(self.training_network("generator"), self.discriminator, batch, self.cfg)

    def discriminator_step(self, batch: Mapping[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, float]]:
        return losses.critic_loss(self.generator, self.training_network("discriminator"), batch)

    def validate(self, batch: Mapping[str, torch.Tensor]) -> dict[str, float]:
        """L1 and SSIM of G(l, B_r) against the right image (one step, not recursive); the audio→landmark L1 in px
        on the window (both centred over it) and that of no motion."""
        seed, frame = self.generator(batch["left"], batch["right_edges"])
        out = {"l1": float((frame - batch["right"]).abs().mean()),
               "ssim": float(losses.ssim(frame, batch["right"])),
               "l1_seed": float((seed - batch["right"]).abs().mean())}
        if float(batch["has_audio"].sum()) > 0:
            out.update(losses.landmark_loss(self.audio2landmark, batch)[1])
        return out

    # ------------------------------------------------------------------ inference

    def predict(self, audio: np.ndarray, inputs: Mapping[str, Path] | None = None) -> Motion:
        """Generated face crops (T, 128, 128, 3) uint8 at 25 fps; the renderer pastes them into the photo.

        Extras: ``landmarks`` (T, 68, 2) target landmarks (own-crop pixels), ``full_to_crop`` (T, 2, 3)."""
        self.set_mode(False)
        frames, own_lm, affines, image, note = inference.predict_crops(
            self.generator, self.audio2landmark, audio, dict(inputs or {}), self.cfg, self.device)
        if note:
            import sys

            print(f"note: {note}", file=sys.stderr)
        self._photo = image
        return Motion("frames", frames, FPS, extras={"landmarks": own_lm, "full_to_crop": affines})

    def renderer(self) -> Any:
        from avs_rdgan.render import FaceRenderer

        return FaceRenderer(self._photo, self.cfg)

    def export(self, motion: Motion, video_path: Path) -> list[Path]:
        """The target landmarks beside the video (``<stem>_landmarks.npz``: (T, 68, 2) crop pixels)."""
        from avs.api import atomic_path

        path = Path(video_path).with_name(Path(video_path).stem + "_landmarks.npz")
        with atomic_path(path, suffix=".npz") as tmp, open(tmp, "wb") as fh:
            np.savez(fh, landmarks=motion.extras["landmarks"], fps=np.float32(motion.fps))
        return [path]

    # ------------------------------------------------------------------ evaluation

    def evaluate(self, dataset: data.PairDataset) -> dict[str, float]:
        from avs_rdgan import evaluate

        self.set_mode(False)
        return evaluate.evaluate(self.generator, self.audio2landmark, dataset, self.cfg, self.device)

    def predict_clips(self, dataset: data.PairDataset) -> Any:
        from avs_rdgan import evaluate

        self.set_mode(False)
        return evaluate.predict_clips(self.generator, self.audio2landmark, dataset, self.cfg, self.device)

    def render_examples(self, dataset: data.PairDataset, n: int, out_dir: Path) -> list[Path]:
        from avs_rdgan import evaluate

        self.set_mode(False)
        return evaluate.render_examples(self.generator, dataset, self.cfg, n, Path(out_dir), self.device)
