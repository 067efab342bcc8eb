"""Configuration of the sdt method: dataclasses only, no torch (imported on the CLI's start-up path).

Defaults are the reference's (SpeechDrivesTemplates ``configs/default.py`` and the four variant
files ``voice2pose_s2g.yaml``, ``voice2pose_sdt_bp.yaml``, ``voice2pose_sdt_vae.yaml``,
``pose2pose.yaml``). Options whose default depends on the variant are ``"auto"``/None and are
resolved by :func:`resolve_norm` and :func:`resolve_hierarchical`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from avs.api import AvsError, TrainConfig, option

VARIANTS = ("sdt-bp", "sdt-vae", "s2g", "pose-vae")
"""``sdt-bp``: learnable per-clip templates (back-propagation); ``sdt-vae``: templates fixed to a
trained pose VAE's μ; ``s2g``: the Speech2Gesture baseline (no template, LSGAN); ``pose-vae``: the
pose sequence VAE (pose2pose), the FTD feature extractor and SDT-VAE's template source."""
TEMPLATE_VARIANTS = ("sdt-bp", "sdt-vae")
TEMPLATE_MODES = ("random", "normal", "gt")
INFER_DTYPES = ("float32", "bfloat16")
NORMS = ("auto", "batch", "instance")


@dataclass
class ModelConfig:
    """Network sizes (SDT ``core/networks``).

    Attributes:
        width: channels of the 1-D U-Net, the decoder and the audio encoder's last stages; the
            2-D encoder's stages use width/4, width/2, width, width (64, 128, 256, 256 at the
            paper's 256). For ``variant=pose-vae``: the pose VAE's channels (256 in the paper).
        d_width: the discriminator's first channels; then 2× and 4× (256, 512, 1024 in the paper).
        norm: ``batch``, ``instance`` (over channels at each time step) or ``auto``: instance for
            the SDT variants (the reference default), batch for ``s2g`` and ``pose-vae``.
        template_dim: length of a template code (32).
        num_templates: rows of SDT-BP's template table = clips in the training split. 0 means
            "set from the training split when training starts" (the trainer does it); a saved
            checkpoint records the number.
    """

    width: int = 256
    d_width: int = 256
    norm: str = "auto"
    template_dim: int = 32
    num_templates: int = 0


@dataclass
class LossConfig:
    """Weights of the objectives (SDT ``configs/default.py``, ``voice2pose_s2g.yaml``).

    Attributes:
        lambda_reg: L1 regression weight (``LAMBDA_REG``).
        lambda_gan: LSGAN weight of the s2g baseline (``POSE_DISCRIMINATOR.LAMBDA_GAN`` = 0.1);
            scales both the generator's GAN term and the discriminator loss.
        lambda_template_kl: weight of SDT-BP's batch-statistics KL term on the templates
            (``LAMBDA_CLIP_KL`` = 0.1).
        lambda_kl: weight of the pose VAE's KL term (``POSE2POSE.LAMBDA_KL`` = 0.1; the reference
            lowered it from 1.0, which did not converge).
    """

    lambda_reg: float = 1.0
    lambda_gan: float = 0.1
    lambda_template_kl: float = 0.1
    lambda_kl: float = 0.1


@dataclass
class DataConfig:
    """Which speakers to read and how poses are normalised.

    Attributes:
        speakers: speaker folders under the data root to use; empty means every folder holding a
            ``processed_137.csv`` or ``clips.csv``.
        hierarchical: parted poses (face relative to the nose tip, hands to the wrists); None
            means the variant's default (off for ``s2g``, on otherwise, as the reference configs).
        min_confidence: OpenPose confidence below which a keypoint counts as missing when the
            statistics are computed.
        reference_shoulder_width: the shoulder width (pixels) every speaker is scaled to before
            normalising (the reference's Oliver: 331.085 px); the speaker's scale factor is its
            mean shoulder width divided by this. 0 disables scaling (scale factor 1).
    """

    speakers: list[str] = field(default_factory=list)
    hierarchical: bool | None = None
    min_confidence: float = 0.1
    reference_shoulder_width: float = 331.085


@dataclass
class InferConfig:
    """Windowing of long inputs at inference.

    Attributes:
        window_frames: pose frames (15 fps) of one network pass: a clip up to this long runs in one
            pass over its own audio, as the reference demo does; longer ones in overlapping passes of
            this length (360 frames = the reference's ``MAX_DEMO_LENGTH`` of 24 s).
        overlap_frames: frames shared by neighbouring windows, linearly cross-faded.
        batch_windows: windows run through the network at once.
        dtype: ``float32`` (default, exact) or ``bfloat16``: the generator runs under bfloat16 autocast
            (convolutions in bfloat16; about 1.7× faster on a CPU with AMX/AVX-512 BF16, normalised poses
            within about 0.03 of float32's; see the README's benchmarks).
    """

    window_frames: int = option(360, min=16, max=4096)
    overlap_frames: int = option(30, min=0, max=256)
    batch_windows: int = option(4, min=1, max=256)
    dtype: str = option("float32", choices=INFER_DTYPES)


@dataclass
class RenderConfig:
    """Stick-figure video (SDT ``SYS.CANVAS_SIZE`` 720×1280, white canvas).

    Attributes:
        height: frame height in pixels.
        width: frame width in pixels.
        margin: empty border as a fraction of the frame (the figure is fitted inside).
    """

    height: int = option(720, min=64, max=2160, step=2)
    width: int = option(1280, min=64, max=3840, step=2)
    margin: float = option(0.08, min=0.0, max=0.4, step=0.01)


def _paper_train() -> TrainConfig:
    # 100 epochs, batch 32, Adam 1e-4, weight decay 0, step LR x0.1 at epochs-10 and epochs-2
    # (SDT configs/default.py; Voice2Pose.setup_optimizer).
    return TrainConfig(epochs=100, iterations_per_epoch=0, batch_size=32, lr_g=1e-4, lr_d=1e-4,
                       checkpoint_every=10, lr_milestones=[-10, -2], lr_gamma=0.1)


@dataclass
class SDTConfig:
    """Everything the sdt method reads; defaults are the reference's SDT-BP.

    Attributes:
        variant: one of :data:`VARIANTS`.
        pose_vae_checkpoint: a ``variant=pose-vae`` checkpoint (``avs train sdt variant=pose-vae``):
            required by ``sdt-vae`` (its templates) and by FTD; ``bundled`` names the pose VAE
            shipped with the plugin (trained on ``avs data synth sdt``); empty/null: none.
        pose_vae_reference: ``avs import`` only (``--pose-vae``): the reference's pose2pose ``.pth``
            whose ``clip_code_mu`` are an imported SDT-VAE generator's templates.
        template: which template code drives the generator at predict/evaluate time:
            ``random`` (a random training template of the speaker, seeded by ``seed``),
            ``normal`` (a sample of N(0, I)), ``gt`` (evaluate only: the pose VAE's μ of the
            ground truth). ``template_index`` overrides ``random``.
        template_index: use training template i (row i of the table).
        template_index_b: with ``template_index``: interpolate ``(1 − alpha)·t_i + alpha·t_j``.
        alpha: interpolation weight of ``template_index_b``.
        seed: seeds the random template choice and the N(0, I) sample.
        speaker: whose statistics (and templates, for ``random``) predict uses; empty: the first.
        ftd: compute FTD in ``avs evaluate`` (needs ``pose_vae_checkpoint``; false skips it).
        pca_plot: PNG that ``avs evaluate`` writes with a PCA scatter of the learned templates
            (``pca_plot=`` or ``pca_plot=null``: none).
    """

    variant: str = option("sdt-bp", choices=VARIANTS, serve=False)  # fixed by the checkpoint's network
    pose_vae_checkpoint: str | None = None
    pose_vae_reference: str | None = None
    template: str = option("random", choices=TEMPLATE_MODES[:2])  # "gt" needs ground truth: evaluate only
    template_index: int | None = option(None, min=0)
    template_index_b: int | None = option(None, min=0)
    alpha: float = option(0.5, min=0.0, max=1.0, step=0.05)
    seed: int = option(0, min=0)
    speaker: str = ""
    ftd: bool = option(True, serve=False)  # evaluate only
    pca_plot: str | None = "sdt_templates_pca.png"
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    data: DataConfig = field(default_factory=DataConfig)
    infer: InferConfig = field(default_factory=InferConfig)
    render: RenderConfig = field(default_factory=RenderConfig)
    train: TrainConfig = field(default_factory=_paper_train)


CONFIGS = Path(__file__).parent / "configs"
"""The experiment files (``paper``, ``small``, ``default-checkpoint``...): ``avs train sdt --config NAME``."""


def __getattr__(attr: str) -> list[str]:
    if attr == "SMALL_PRESET":  # the overrides of configs/small.yaml (read on first use)
        from avs.api import yaml_overrides

        return yaml_overrides(CONFIGS / "small.yaml")
    raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")



def check_variant(cfg: Any) -> str:
    """The configured variant.

    Raises:
        AvsError: for an unknown variant.
    """
    variant = str(cfg.variant)
    if variant not in VARIANTS:
        raise AvsError(f"unknown variant {variant!r} (choose one of {', '.join(VARIANTS)})")
    return variant


def resolve_norm(cfg: Any) -> str:
    """``batch`` or ``instance``: ``cfg.model.norm``, or the variant's default for ``auto``.

    Raises:
        AvsError: an unknown norm or variant.
    """
    norm = str(cfg.model.norm)
    if norm not in NORMS:
        raise AvsError(f"model.norm must be one of {', '.join(NORMS)}, got {norm!r}")
    if norm == "auto":
        return "instance" if check_variant(cfg) in TEMPLATE_VARIANTS else "batch"
    return norm


def resolve_hierarchical(cfg: Any) -> bool:
    """Whether poses are parted: ``cfg.data.hierarchical``, or False for ``s2g`` and True otherwise."""
    if cfg.data.hierarchical is None:
        return check_variant(cfg) != "s2g"
    return bool(cfg.data.hierarchical)
