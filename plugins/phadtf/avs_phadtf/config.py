"""Configuration of the phadtf method: dataclasses only, no torch (imported on the CLI's start-up path).

Defaults are the paper's (``paper`` preset); :data:`SMALL_PRESET` is the CPU-sized variant. Facts from
yiranran/Audio-driven-TalkingFace-HeadPose: ``Audio/code/atcnet.py`` (ATC_net training), ``models.py``
(ATC_net), ``train_19news_1.py`` (per-person fine-tune), ``choose_bg_gexinghua2_reassign.py`` (background
matching), ``render-to-video/models/{networks,memory_network,memory_seq_model}.py`` (memory-augmented GAN).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from avs.api import TrainConfig

VARIANTS = ("general", "finetune")


@dataclass
class AudioConfig:
    """MFCC front-end (reference ``atcnet_test1.py`` / ``train_19news_1.py``: python_speech_features).

    Attributes:
        pad_samples: zeros added at both ends of the 16 kHz speech (1920 = 0.12 s = 3 video frames).
        winlen: analysis window in seconds (python_speech_features default, 25 ms).
        winstep: hop in seconds (10 ms: 100 MFCC frames per second, 4 per video frame).
        numcep: cepstra kept (13; c0 is replaced by the log frame energy and dropped from the window).
        nfilt: mel filters (26).
        nfft: FFT size (512).
        preemph: pre-emphasis coefficient (0.97).
        ceplifter: cepstral lifter (22).
        window_mfcc: MFCC rows per video frame window (28 = 280 ms, frames t-3 .. t+3).
    """

    pad_samples: int = 1920
    winlen: float = 0.025
    winstep: float = 0.01
    numcep: int = 13
    nfilt: int = 26
    nfft: int = 512
    preemph: float = 0.97
    ceplifter: int = 22
    window_mfcc: int = 28


@dataclass
class AtcConfig:
    """ATC_net (reference ``models.py::ATC_net``) and its objective (``atcnet.py``).

    Attributes:
        clip_frames: video frames per training clip (16).
        hidden: LSTM width and the audio feature size (256).
        lstm_layers: stacked LSTM layers (3).
        conv_widths: output channels of the five conv3×3 blocks (64, 128, 256, 256, 512).
        fc_hidden: width of the first fully connected layer after the conv stack (2048).
        lambda_pose: weight of the pose MSE (``--lambda_pose``; 0.2 with ``--less_constrain``).
        lambda_smooth_pose: weight of Σ‖Δpose‖² (``--lambda_smooth`` 0.01).
        lambda_smooth_exp: weight of Σ‖Δexp‖² (``--lambda_smooth2`` 1e-4).
        init_std: std of the N(0, std) init of conv/linear weights (``initialize_weights``, 0.02).
        exp_scale: how the 64 expression targets are scaled: ``shared`` (one pooled scale for all 64, so
            their natural variances are kept as in the reference's raw BFM coefficients and the loss weighs
            the large, mouth-driven components most) or ``per_coefficient`` (each to unit variance; the
            many small components, mostly tracking noise, then weigh as much as mouth opening).
        dropout: dropout on the input and output of the FC audio encoder (0 in the reference; small preset).
        weight_decay: Adam L2 weight decay on ATC_net's parameters (0 in the reference; small preset).
    """

    clip_frames: int = 16
    hidden: int = 256
    lstm_layers: int = 3
    conv_widths: list[int] = field(default_factory=lambda: [64, 128, 256, 256, 512])
    fc_hidden: int = 2048
    lambda_pose: float = 0.2
    lambda_smooth_pose: float = 0.01
    lambda_smooth_exp: float = 1e-4
    init_std: float = 0.02
    exp_scale: str = "shared"
    dropout: float = 0.0
    weight_decay: float = 0.0


@dataclass
class GanConfig:
    """Memory-augmented render-to-video GAN (reference ``render-to-video``, ``--model memory_seq``).

    Attributes:
        enabled: train and use the GAN refinement (``false``: predict shows the blended render).
        image_size: face crop side in pixels (256 in the paper).
        levels: U-Net depth; ``image_size`` must equal ``2**levels`` (8 at 256, 7 at 128).
        ngf: generator base width (64).
        ndf: discriminator base width (64).
        n_layers_d: PatchGAN layers (3: 70×70 receptive field).
        window: stacked renders t-window+1 .. t (3 → 9 input channels).
        identity_dim: identity feature size (reference ArcFace 512; here the 128-d dlib embedding).
        query_dim: memory key size (512).
        mem_size: memory slots (30000).
        top_k: keys scored by the memory hinge loss (256).
        margin: hinge margin α (``--alpha`` 0.3).
        iden_thres: value·gt above which a slot counts as the same identity (0.98).
        age_noise: uniform noise ± on slot ages when picking the oldest (4.0).
        mlp_layers: layers of the identity → AdaIN parameter MLP (3).
        lambda_l1: weight of L1(fake, real) (100).
        lambda_mask: weight of mean(mask) (0.1 general, ``--lambda_mask 2`` when fine-tuning).
        lambda_mask_tv: weight of the mask's total variation (1e-5).
        identity_every: at test, the memory's top-1 identity is read every N frames and interpolated (25).
        train_start: first training frame of a triplet (2: needs t-2 and t-1).
    """

    enabled: bool = True
    image_size: int = 256
    levels: int = 8
    ngf: int = 64
    ndf: int = 64
    n_layers_d: int = 3
    window: int = 3
    identity_dim: int = 128
    query_dim: int = 512
    mem_size: int = 30000
    top_k: int = 256
    margin: float = 0.3
    iden_thres: float = 0.98
    age_noise: float = 4.0
    mlp_layers: int = 3
    lambda_l1: float = 100.0
    lambda_mask: float = 2.0
    lambda_mask_tv: float = 1e-5
    identity_every: int = 25
    train_start: int = 2


@dataclass
class BackgroundConfig:
    """Pose realisation by background matching (reference ``choose_bg_gexinghua2_reassign2``).

    Attributes:
        axis: Euler angle whose extrema are the keyframes: ``pitch``, ``yaw``, ``roll`` or ``all``.
            The reference's default ``aaxis=2`` is its third angle (rotation about z); the paper and this
            project use yaw, the dominant head motion of a talking person (``roll`` reproduces the code).
        smooth_window: Hanning smoothing window of the predicted angle, frames (7).
        keyframe_ratio: keep thinning extrema (order 2) while more than N·ratio remain (1/10; 1/5 for ``all``).
        min_gap: keyframes closer than this many frames are merged, keeping the larger |angle| (3).
        speed: search window half-width = speed × keyframe distance, in training frames (1 in
            ``test_personalized.py``; 2 is the function's default).
    """

    axis: str = "yaw"
    smooth_window: int = 7
    keyframe_ratio: float = 0.1
    min_gap: int = 3
    speed: float = 1.0


@dataclass
class RenderConfig:
    """Render of the open face model, blended into the matched real frame, composited back.

    Attributes:
        crop_scale: side of the square face crop as a multiple of the face box's larger side.
        box_smooth: moving-average length (frames) of the crop box track.
        feather: blur (pixels at crop size 256) of the render's and the crop's blend masks.
        mouth_color: RGB of the open mouth's interior in the render (the face mesh has no mouth cavity).
    """

    crop_scale: float = 1.6
    box_smooth: int = 9
    feather: float = 6.0
    mouth_color: list[int] = field(default_factory=lambda: [60, 20, 25])


@dataclass
class DataConfig:
    """Which frames of a prepared person are used (reference ``News_1D_lstm_3dmm_pose``: 300 train / 100 test).

    Attributes:
        train_frames: frames from the start used for fine-tuning (300).
        test_frames: held-out frames after them (100).
        short_train_frames: train frames of a clip shorter than train+test (8 s HDTF clips: 150).
        short_test_frames: held-out frames of such a clip (50).
        min_frames: shortest person (frames) a fine-tune accepts: one clip plus the GAN window.
    """

    train_frames: int = 300
    test_frames: int = 100
    short_train_frames: int = 150
    short_test_frames: int = 50
    min_frames: int = 40


@dataclass
class PhadtfConfig:
    """Everything the phadtf method reads; defaults are the paper's.

    Attributes:
        variant: ``general`` (ATC_net on many prepared people) or ``finetune`` (ATC_net from ``init``
            plus the GAN, on one person's first ``data.train_frames`` frames, lr 1e-4).
        init: checkpoint whose ATC_net starts a fine-tune (empty: the bundled general model; ``none``: from the
            N(0, 0.02) initialisation).
        target: prepared person folder used by ``predict`` with a general checkpoint.
    """

    variant: str = "finetune"
    init: str = ""
    target: str = ""
    audio: AudioConfig = field(default_factory=AudioConfig)
    atc: AtcConfig = field(default_factory=AtcConfig)
    gan: GanConfig = field(default_factory=GanConfig)
    background: BackgroundConfig = field(default_factory=BackgroundConfig)
    render: RenderConfig = field(default_factory=RenderConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(epochs=100, iterations_per_epoch=0, batch_size=16, lr_g=1e-4,
                                            lr_d=1e-4, beta1=0.5, beta2=0.999, checkpoint_every=20)
    )


PAPER_PRESET: list[str] = []
"""The paper's sizes: 256² crops, 8-level U-Net, ngf/ndf 64, memory 30000 × 512 (a GPU run)."""

SMALL_PRESET: list[str] = [
    "gan.image_size=128", "gan.levels=7", "gan.ngf=16", "gan.ndf=16", "gan.query_dim=128",
    "gan.mem_size=512", "gan.top_k=32", "atc.conv_widths=[16,32,64,64,128]", "atc.fc_hidden=512",
    "atc.dropout=0.3", "atc.weight_decay=1e-4",
]
"""CPU preset: 128² crops (7 U-Net levels so the bottleneck stays 1×1), a quarter of the widths,
a 512-slot memory; ATC_net with a quarter of the conv widths and FC 3072→512 (paper 12288→2048),
LSTM 256 × 3 as the paper; dropout 0.3 and weight decay 1e-4 on ATC_net (not in the reference: the general
model sees ~36 s of speech and overfits within one pass). Fine-tunes on 2 CPU cores in minutes."""

PRESETS: dict[str, list[str]] = {"paper": PAPER_PRESET, "small": SMALL_PRESET}
