"""A tiny, fully-formed method for testing core's trainer and checkpoints.

"Audio features" x of shape (16, 32) are Gaussian noise; the "pose" y (4, 32) is a fixed
random linear map of x plus noise: y = W x + 0.05 ε. The generator is a 1×1 conv (which
can learn W exactly) plus a small conv branch with dropout (so the RNG matters for
resuming); the discriminator is a two-layer PatchGAN-style conv net; LSGAN losses.
Data sets are made in memory from a seed; ``data_root`` must exist but is not read.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from avs.config import TrainConfig
from avs.impl import CAPABILITIES, MethodImpl
from avs.method import Method
from avs.motion import Motion

AUDIO_DIM, POSE_DIM, FRAMES = 16, 4, 32
SPLIT_OFFSET = {"train": 0, "dev": 1, "test": 2}


@dataclass
class ToyModelConfig:
    hidden: int = 8
    dropout: float = 0.1
    batchnorm: bool = False
    adv_weight: float = 0.1


@dataclass
class ToyDataConfig:
    train_windows: int = 64
    dev_windows: int = 16
    test_windows: int = 16
    noise: float = 0.05
    seed: int = 0


@dataclass
class ToyConfig:
    model: ToyModelConfig = field(default_factory=ToyModelConfig)
    data: ToyDataConfig = field(default_factory=ToyDataConfig)
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(
            epochs=2, iterations_per_epoch=0, batch_size=8, lr_g=3e-3, lr_d=3e-3, checkpoint_every=2,
            device="cpu",
        )
    )


class ToyGenerator(nn.Module):
    """(B, 16, T) features → (B, 4, T) pose."""

    def __init__(self, hidden: int, dropout: float, batchnorm: bool) -> None:
        super().__init__()
        self.linear = nn.Conv1d(AUDIO_DIM, POSE_DIM, 1)
        self.branch = nn.Sequential(
            nn.Conv1d(AUDIO_DIM, hidden, 3, padding=1),
            nn.BatchNorm1d(hidden) if batchnorm else nn.Identity(),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Conv1d(hidden, POSE_DIM, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x) + 0.1 * self.branch(x)


class ToyDiscriminator(nn.Module):
    """(B, 4, T) pose → (B, 1, T) patch scores."""

    def __init__(self, hidden: int, batchnorm: bool) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv1d(POSE_DIM, hidden, 3, padding=1),
            nn.BatchNorm1d(hidden) if batchnorm else nn.Identity(),
            nn.LeakyReLU(0.2),
            nn.Conv1d(hidden, 1, 1),
        )

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        return self.net(y)


def true_map(seed: int) -> np.ndarray:
    """The linear rule W (4, 16) the generator should learn."""
    return np.random.default_rng(seed).normal(size=(POSE_DIM, AUDIO_DIM)).astype(np.float32) / 4.0


def make_split(cfg: Any, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Raw (audio (N, 16, 32), pose (N, 4, 32)) of a split, from ``cfg.data.seed``."""
    n = int(getattr(cfg.data, f"{split}_windows"))
    rng = np.random.default_rng([cfg.data.seed, SPLIT_OFFSET[split]])
    audio = rng.normal(size=(n, AUDIO_DIM, FRAMES)).astype(np.float32)
    pose = np.einsum("pa,nat->npt", true_map(cfg.data.seed), audio) + 2.0
    pose += cfg.data.noise * rng.normal(size=pose.shape)
    return audio, pose.astype(np.float32)


class ToyDataset:
    """Map-style dataset: {"audio": (16, 32), "pose": (4, 32) normalised, "index": ()}."""

    def __init__(self, audio: np.ndarray, pose: np.ndarray) -> None:
        self.audio, self.pose = audio, pose

    def __len__(self) -> int:
        return len(self.audio)

    def __getitem__(self, index: int) -> dict[str, np.ndarray]:
        return {"audio": self.audio[index], "pose": self.pose[index], "index": np.int64(index)}


def build_generator(cfg: Any) -> ToyGenerator:
    return ToyGenerator(cfg.model.hidden, cfg.model.dropout, cfg.model.batchnorm)


def build_discriminator(cfg: Any) -> ToyDiscriminator:
    return ToyDiscriminator(cfg.model.hidden, cfg.model.batchnorm)


def compute_stats(cfg: Any, root: Path) -> dict[str, np.ndarray]:
    _, pose = make_split(cfg, "train")
    if len(pose) == 0:
        return {"pose_mean": np.zeros(POSE_DIM, np.float32), "pose_std": np.ones(POSE_DIM, np.float32)}
    return {
        "pose_mean": pose.mean(axis=(0, 2)).astype(np.float32),
        "pose_std": pose.std(axis=(0, 2)).astype(np.float32),
    }


def build_dataset(cfg: Any, root: Path, split: str, stats: dict[str, np.ndarray]) -> ToyDataset:
    audio, pose = make_split(cfg, split)
    pose = (pose - stats["pose_mean"][None, :, None]) / stats["pose_std"][None, :, None]
    return ToyDataset(audio, pose.astype(np.float32))


def generator_loss(G: Any, D: Any, batch: Any, cfg: Any) -> tuple[torch.Tensor, dict[str, float]]:
    fake = G(batch["audio"])
    l1 = (fake - batch["pose"]).abs().mean()
    logs = {"g_l1": l1.item()}
    loss = l1
    if D is not None:
        adv = ((D(fake) - 1) ** 2).mean()
        loss = loss + cfg.model.adv_weight * adv
        logs["g_adv"] = adv.item()
    return loss, logs


def discriminator_loss(G: Any, D: Any, batch: Any, cfg: Any) -> tuple[torch.Tensor, dict[str, float]]:
    with torch.no_grad():
        fake = G(batch["audio"])
    real = ((D(batch["pose"]) - 1) ** 2).mean()
    fake_score = (D(fake) ** 2).mean()
    return real + fake_score, {"d_real": real.item(), "d_fake": fake_score.item()}


def validate(G: Any, batch: Any, cfg: Any) -> dict[str, float]:
    return {"l1": float((G(batch["audio"]) - batch["pose"]).abs().mean())}


def predict(G: Any, audio: np.ndarray, cfg: Any, stats: dict[str, np.ndarray]) -> Motion:
    frames = max(1, len(audio) // AUDIO_DIM)
    x = np.zeros(AUDIO_DIM * frames, dtype=np.float32)
    x[: min(len(audio), len(x))] = audio[: len(x)]
    feats = torch.from_numpy(x.reshape(frames, AUDIO_DIM).T.copy())[None]
    with torch.no_grad():
        y = G(feats)[0].T.numpy()
    y = y * stats["pose_std"] + stats["pose_mean"]
    return Motion("3dmm", y.astype(np.float32), fps=25.0)


class ToyRenderer:
    size = (8, 8)

    def frames(self, motion: Motion) -> Iterator[np.ndarray]:
        for _ in range(motion.num_frames):
            yield np.zeros((*self.size, 3), dtype=np.uint8)


def build_renderer(cfg: Any, stats: dict[str, np.ndarray]) -> ToyRenderer:
    return ToyRenderer()


def evaluate(G: Any, dataset: ToyDataset, cfg: Any, stats: dict[str, np.ndarray]) -> dict[str, float]:
    with torch.no_grad():
        pred = G(torch.from_numpy(dataset.audio))
    return {"l1": float((pred - torch.from_numpy(dataset.pose)).abs().mean())}


def synthesize_data(root: Path, cfg: Any, seed: int) -> str:
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    (root / "toy.txt").write_text(f"toy data, seed {seed}\n")
    return "toy data is made in memory"


class ToyMethod(MethodImpl):
    """The toy implementation: the module's functions wired into the MethodImpl contract."""

    val_key = "l1"
    with_discriminator: bool = True

    def __init__(self, cfg: Any, stats: dict[str, np.ndarray]) -> None:
        super().__init__(cfg, stats)
        self.generator = build_generator(cfg)
        self.discriminator = build_discriminator(cfg) if self.with_discriminator else None

    def networks(self) -> dict[str, nn.Module]:
        nets = {"generator": self.generator}
        if self.discriminator is not None:
            nets["discriminator"] = self.discriminator
        return nets

    @classmethod
    def compute_stats(cls, cfg: Any, data_root: Path) -> dict[str, np.ndarray]:
        return compute_stats(cfg, data_root)

    @classmethod
    def synthesize_data(cls, root: Path, cfg: Any, seed: int) -> str:
        return synthesize_data(root, cfg, seed)

    def build_dataset(self, data_root: Path, split: str) -> ToyDataset:
        return build_dataset(self.cfg, data_root, split, self.stats)

    def generator_step(self, batch: Any) -> tuple[torch.Tensor, dict[str, float]]:
        return generator_loss(self.training_network("generator"), self.discriminator, batch, self.cfg)

    def discriminator_step(self, batch: Any) -> tuple[torch.Tensor, dict[str, float]] | None:
        if self.discriminator is None:
            return None
        return discriminator_loss(self.generator, self.training_network("discriminator"), batch, self.cfg)

    def validate(self, batch: Any) -> dict[str, float]:
        return validate(self.generator, batch, self.cfg)

    def predict(self, audio: np.ndarray, inputs: Any = None) -> Motion:
        return predict(self.generator, audio, self.cfg, self.stats)

    def renderer(self) -> ToyRenderer:
        return ToyRenderer()

    def evaluate(self, dataset: Any) -> dict[str, float]:
        return evaluate(self.generator, dataset, self.cfg, self.stats)


_CLASS_HOOKS = ("compute_stats", "synthesize_data", "import_weights")
_HOOKS = set(CAPABILITIES) | {"collate", "configure_optimizers", "lr_scale", "val_key"}


def make_method(name: str = "toy", with_discriminator: bool = True, **changes: Any) -> Method:
    """The toy :class:`Method`; ``with_discriminator=False`` gives a method without a GAN.

    ``changes`` are record fields, or implementation methods to replace (functions taking
    ``self`` / ``cls`` first, e.g. ``generator_step=lambda self, batch: ...``).
    """
    hooks = {k: changes.pop(k) for k in list(changes) if k in _HOOKS}
    for key in _CLASS_HOOKS:
        if key in hooks:
            hooks[key] = classmethod(hooks[key])
    impl = type(f"Toy_{name.replace('-', '_')}", (ToyMethod,), {"with_discriminator": with_discriminator, **hooks})
    fields: dict[str, Any] = dict(
        name=name,
        task="face-3dmm",
        summary="toy linear-rule method for tests",
        paper="none",
        config_class=ToyConfig,
        sample_rate=16000,
        fps=25.0,
        impl=impl,
        metric_directions={"l1": False},
    )
    fields.update(changes)
    method = Method(**fields).with_version("0.0.1")
    method.validate_record()
    return method
