"""Configuration of the s2g method: dataclasses only, no torch (imported on the CLI's start-up path).

Defaults are the paper's sizes (speech2gesture ``audio_to_multiple_pose_gan/static_model_factory.py``,
``audio_to_pose_gans`` and ``D_patchgan``; ``train.py``/``model.py`` for the schedule).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from avs.api import TrainConfig, option


@dataclass
class ModelConfig:
    """Network sizes.

    Attributes:
        width: channels of the 1-D U-Net and decoder and of the audio encoder's last stage;
            the encoder's four 2-D stages use width/4, width/2, width, width (64, 128, 256, 256
            at the paper size 256).
        d_width: channels of the discriminator's first conv; then 2x and 4x (64, 128, 256 in the paper).
        norm: normalisation after every conv block: ``batch`` (paper default), ``instance`` or ``group``.
    """

    width: int = 256
    d_width: int = 64
    norm: str = "batch"


@dataclass
class LossConfig:
    """Weights of the objective (speech2gesture ``model.py``: ``lambda_gan``, ``lambda_d``).

    Attributes:
        lambda_gan: weight of the LSGAN term in the generator loss (added to the L1 regression).
        lambda_d: weight of the fake-sample term in the discriminator loss.
    """

    lambda_gan: float = 1.0
    lambda_d: float = 1.0


@dataclass
class DataConfig:
    """Which part of a speech2gesture-layout data set to use.

    Attributes:
        speaker: value of the ``speaker`` column of ``train.csv`` to train/evaluate on; empty means
            the only speaker present (an error if the file holds several).
    """

    speaker: str = ""


@dataclass
class InferConfig:
    """Windowing of long inputs at inference.

    Attributes:
        window_frames: pose frames (15 fps) of one network pass: a clip up to this long runs in one
            pass, as the reference does with every clip; longer ones in overlapping passes of this
            length (360 frames = 24 s, SDT's demo limit), each padded to the next multiple of 32 above.
        overlap_frames: frames shared by neighbouring windows, linearly cross-faded.
        silence_gate_db: frames whose audio level (RMS, dBFS) is below this fade to the rest
            (mean) pose; the fade spans 10 dB and is smoothed over 5 frames. Digital silence lies
            far outside the speech a model is trained on, and the reference's output there is
            arbitrary motion; ours is a still figure. ``-inf`` switches the gate off (avs addition).
        hand_prior: project each predicted hand onto the principal components of the training
            hands (:func:`avs.api.project_hands`; checkpoints whose statistics carry a hand prior)
            so fingers keep a hand's shape instead of tangling; ``false`` gives the network's raw
            keypoints, as the reference does (avs addition; ``avs evaluate`` always scores the raw output).
        hand_prior_clip: prior coefficients are clipped to this many standard deviations.
    """

    window_frames: int = option(360, min=32, max=4096)
    overlap_frames: int = option(30, min=0, max=256)
    silence_gate_db: float = option(-60.0, min=float("-inf"), max=0.0)
    hand_prior: bool = True
    hand_prior_clip: float = option(3.0, min=0.5, max=100.0)


@dataclass
class RenderConfig:
    """Stick-figure video size.

    Attributes:
        height: frame height in pixels.
        width: frame width in pixels.
        line_width: bone thickness in pixels.
    """

    height: int = option(720, min=64, max=2160, step=2)
    width: int = option(1280, min=64, max=3840, step=2)
    line_width: int = option(4, min=1, max=32)


def _paper_train() -> TrainConfig:
    # Adam 1e-4 for G and D, batch 32, 300 epochs x 300 iterations (speech2gesture model.py / train.py).
    return TrainConfig(epochs=300, iterations_per_epoch=300, batch_size=32, lr_g=1e-4, lr_d=1e-4)


@dataclass
class S2GConfig:
    """Everything the s2g method reads; defaults are the paper's."""

    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    data: DataConfig = field(default_factory=DataConfig)
    infer: InferConfig = field(default_factory=InferConfig)
    render: RenderConfig = field(default_factory=RenderConfig)
    train: TrainConfig = field(default_factory=_paper_train)


CONFIGS = Path(__file__).parent / "configs"
"""The experiment files (``paper``, ``small``, ``default-checkpoint``...): ``avs train s2g --config NAME``."""


def __getattr__(attr: str) -> list[str]:
    if attr == "SMALL_PRESET":  # the overrides of configs/small.yaml (read on first use)
        from avs.api import yaml_overrides

        return yaml_overrides(CONFIGS / "small.yaml")
    raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")

