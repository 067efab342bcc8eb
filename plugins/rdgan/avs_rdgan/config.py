"""Configuration of the rdgan method: dataclasses only, no torch (imported on the CLI's start-up path).

Defaults are RD-GAN's (Guo, Yan, Liu 2021; the reference AuroraWJJ/RD-GAN, read from its compiled
bytecode): 128×128 crops, the seed GAN's 32-64-128-256 image encoder, dropout keep-probability 0.6,
G loss 0.1·(1 − SSIM) + L1 + adversarial, weight decay 5e-4, RMSProp at 1e-4·0.9^(iter/2000), batch 32,
2 D steps per G step. :data:`SMALL_PRESET` is the CPU-sized variant of the bundled checkpoint.
Choices the paper leaves open are named in the plugin README ("Open choices").
"""

from __future__ import annotations

from dataclasses import dataclass, field

from avs.api import TrainConfig

IMAGE_SIZE = 128
"""Side of every face crop, edge map and generated frame in pixels (the reference's)."""
FPS = 25.0
"""Output frame rate (prepared face data is resampled to 25 fps)."""
SAMPLE_RATE = 16000
"""Audio rate of the audio→landmark model in Hz."""


@dataclass
class ModelConfig:
    """Network shapes.

    Attributes:
        width: multiplier of every channel count of both GANs and their critics (1.0 = the reference's
            32-64-128-256 encoders and 128-256-512-512 critic).
        dropout_keep: keep-probability of the seed image encoder's dropout (reference 0.6).
        leaky_slope: negative slope of the encoders' LeakyReLU (reference 0.2).
        mel_bands: log-mel bands of the audio→landmark model's input.
        a2l_context: video frames of log-mel context on each side of the audio→landmark model's linear
            mouth-opening regression (:mod:`avs_rdgan.audio2landmark`).
        a2l_lambdas: its ridge strengths per training frame; the one with the lowest dev landmark L1 is kept.
    """

    width: float = 1.0
    dropout_keep: float = 0.6
    leaky_slope: float = 0.2
    mel_bands: int = 64
    a2l_context: int = 4
    a2l_lambdas: list[float] = field(default_factory=lambda: [1.0, 3.0, 10.0, 30.0, 100.0])


@dataclass
class LossConfig:
    """Weights of the dual objective.

    Attributes:
        w_ssim: weight of (1 − SSIM) in the seed GAN's loss (reference 0.1).
        w_l1: weight of each L1 reconstruction term (reference 1).
        w_adv: weight of each adversarial term (ours: the reference's weighting is unusable, its signs
            are inconsistent; 0.01 is pix2pix's ratio of the GAN term to L1, 1 : 100).
        w_parallelogram: weight of mean|I_l + I_r − G(l, B_r) − G(r, B_l)| (reference 0.01).
        w_mouth: weight of an extra L1 term inside the lip box (landmarks 48–67 ± 4 px) of each of the four
            evaluations of both GANs (ours, not the reference's; 0 = the reference's objective). Without it the
            small model learns to copy its input face and ignore the edge maps (plugin README, "Measured").
        ssim_window: Gaussian window side of the SSIM loss (reference 11).
        ssim_sigma: its σ (reference 1.5).
    """

    w_ssim: float = 0.1
    w_l1: float = 1.0
    w_adv: float = 0.01
    w_parallelogram: float = 0.01
    w_mouth: float = 0.0
    ssim_window: int = 11
    ssim_sigma: float = 1.5


@dataclass
class OptimConfig:
    """RMSProp as in the reference (TensorFlow ``RMSPropOptimizer``).

    Attributes:
        lr: initial learning rate of both GANs and critics (reference 1e-4).
        decay_rate: the learning rate is ``lr · decay_rate^(iteration / decay_steps)`` (reference 0.9).
        decay_steps: reference 2000 generator iterations (continuous exponent: TensorFlow's default
            ``staircase=False``).
        weight_decay: L2 on every weight of the GANs and critics (reference 5e-4).
        alpha: RMSProp's squared-gradient decay (TensorFlow's default 0.9; torch's is 0.99).
        eps: RMSProp's ε.
    """

    lr: float = 1e-4
    decay_rate: float = 0.9
    decay_steps: int = 2000
    weight_decay: float = 5e-4
    alpha: float = 0.9
    eps: float = 1e-8


@dataclass
class DataConfig:
    """How prepared face data (or a CK+-style folder) becomes training pairs.

    Attributes:
        max_gap: largest j − i of a training pair (i, j > i) within a clip, in frames; 0 = all pairs
            (the reference's CK+ sequences are 10–60 frames, so all pairs; our clips are minutes).
        test_pairs: test pairs (first frame, later frame) per test segment; 0 = every later frame.
        a2l_frames: frames (at 25 fps) of the audio→landmark windows of each pair item (the validation metric
            ``a2l_l1_px``; the model itself is fitted in closed form on whole clips).
        dev_fraction: share of subjects of a CK+-style folder held out for dev (the same share for test).
        min_face: smallest accepted face box side in pixels (smaller faces are refused).
    """

    max_gap: int = 0
    test_pairs: int = 0
    a2l_frames: int = 32
    dev_fraction: float = 0.15
    min_face: int = 64


@dataclass
class InferConfig:
    """Prediction.

    Attributes:
        landmarks_mode: how a ``--landmarks`` file or ``--drive`` video steers the photo: ``relative``
            (each frame's displacement from the sequence's first frame, in face-box units, added to the
            photo's landmarks: transfers the expression, keeps the photo's face shape) or ``absolute``
            (the landmarks, normalised to their own face box, are the targets).
        a2l_gain: factor on the audio→landmark displacements (1 = as learned).
        smooth: frames of the centred moving average on predicted landmark displacements (1 = none).
        paste: paste the animated face crop back into the photo (feathered); false = the 128×128 crop.
        video_size: side of the output video in pixels when ``paste`` is false.
    """

    landmarks_mode: str = "relative"
    a2l_gain: float = 1.0
    smooth: int = 3
    paste: bool = True
    video_size: int = 256


@dataclass
class EvalConfig:
    """``avs evaluate rdgan`` options.

    Attributes:
        max_frames: frames of each held-out test segment animated recursively from its first frame.
        max_segments: test segments scored (0 = all).
    """

    max_frames: int = 25
    max_segments: int = 0


def _reference_train() -> TrainConfig:
    # RD-GAN: batch 32, 2 D steps per G step; RMSProp comes from configure_optimizers, not lr_g/lr_d.
    return TrainConfig(epochs=100, iterations_per_epoch=200, batch_size=32, lr_g=1e-4, lr_d=1e-4, d_steps=2,
                       checkpoint_every=10)


@dataclass
class RDGANConfig:
    """Everything the rdgan method reads; model defaults are the reference's shapes."""

    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    data: DataConfig = field(default_factory=DataConfig)
    infer: InferConfig = field(default_factory=InferConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    train: TrainConfig = field(default_factory=_reference_train)


SMALL_PRESET: list[str] = [
    "model.width=0.5",
    "train.batch_size=8",
]
"""Overrides for the CPU-sized networks of the bundled checkpoint (half the reference's channels)."""
