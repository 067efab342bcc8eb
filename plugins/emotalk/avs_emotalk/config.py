"""Configuration of the emotalk method: dataclasses only, no torch (imported on the CLI's start-up path).

Defaults are the reference's shapes (psyai-net/EmoTalk_release ``model.py``, ``demo.py``): two
wav2vec2-large encoders, a 512 + 256 + 32 + 32 = 832-wide one-layer transformer decoder with 4 heads,
ALiBi period 30. :data:`SMALL_PRESET` is the CPU-sized variant of the bundled checkpoint.

Prediction controls sit at the top level, so a user types ``avs predict emotalk a.wav emotion=happy
level=1 person=3``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from avs.api import TrainConfig, option
from avs_emotalk.arkit import EMOTIONS

DTYPES = ("auto", "float32", "bfloat16")
"""``infer.dtype`` values."""


@dataclass
class ModelConfig:
    """Network shapes.

    Attributes:
        encoder: wav2vec2 shape of both audio encoders: ``large`` (the reference's: hidden 1024,
            24 layers, 16 heads, feed-forward 4096, 7 conv layers of 512 channels) or ``small``
            (hidden 128, 2 layers, 4 heads, feed-forward 256, conv layers of 32 channels).
        content_encoder_path: a local folder with a pretrained wav2vec2 (``config.json`` + weights),
            e.g. a download of ``jonatasgrosman/wav2vec2-large-xlsr-53-english``; loaded with
            ``from_pretrained(local_files_only=True)`` and then its shape wins over ``encoder``.
            Empty: random initialisation.
        emotion_encoder_path: the same for the emotion encoder (reference:
            ``r-f/wav2vec-english-speech-emotion-recognition``; only its wav2vec2 part is loaded).
        freeze_feature_encoder: keep the CNN feature encoders fixed (the reference does, since they
            are pretrained).
        normalize_audio: standardise each waveform to zero mean and unit variance over its samples
            (the reference's ``Wav2Vec2Processor`` with ``do_normalize``).
        num_emotions: classes of the emotion head (8 RAVDESS emotions).
        content_dim: width of the content features fed to the decoder (reference 512).
        emotion_dim: width of the emotion features concatenated to the decoder input (reference 256).
        level_dim: width of the level embedding (reference 32).
        person_dim: width of the person embedding (reference 32).
        heads: attention heads of the decoder (reference 4); the decoder width
            ``content_dim + emotion_dim + level_dim + person_dim`` must be a multiple of it.
        period: period of the ALiBi target bias in frames (reference 30 = 1 s).
        dropout: dropout of the decoder layer (PyTorch's default 0.1, as in the reference).
        prototype_momentum: momentum of the per-emotion running means of the emotion features
            that ``emotion=<name>`` uses at prediction (ours; the reference has no such switch).
    """

    encoder: str = "large"
    content_encoder_path: str = ""
    emotion_encoder_path: str = ""
    freeze_feature_encoder: bool = True
    normalize_audio: bool = True
    num_emotions: int = 8
    content_dim: int = 512
    emotion_dim: int = 256
    level_dim: int = 32
    person_dim: int = 32
    heads: int = 4
    period: int = 30
    dropout: float = 0.1
    prototype_momentum: float = 0.05


@dataclass
class LossConfig:
    """Weights of the objective (paper Sec. 3.4; the weights were not published — ours).

    Attributes:
        w_cross: cross-reconstruction, both directions: content of A(c1,e2) + emotion of A(c2,e1)
            → B(c1,e1), and content of A(c2,e1) + emotion of A(c1,e2) → B(c2,e2). MSE.
        w_self: self-reconstruction of both inputs: A(c1,e2) → B(c1,e2) and A(c2,e1) → B(c2,e1). MSE.
        w_velocity: MSE of frame-to-frame differences, over all four reconstructions.
        w_emotion: cross-entropy of the emotion head against the emotion of its input.
    """

    w_cross: float = 1.0
    w_self: float = 1.0
    w_velocity: float = 0.5
    w_emotion: float = 0.1


@dataclass
class DataConfig:
    """How a 3D-ETF-style folder is split and labelled.

    A data root with ``train/``, ``dev/``, ``test/`` sub-folders is split by folder. Otherwise all
    clips under the root are split by RAVDESS actor with the two lists below (clips without RAVDESS
    names go to ``train``).

    Attributes:
        dev_actors: RAVDESS actor numbers (1–24) of the dev split.
        test_actors: RAVDESS actor numbers (1–24) of the test split.
        default_level: level of clips without a RAVDESS name (e.g. HDTF).
        default_person: person of clips without a RAVDESS name.
        max_frames: clips without a RAVDESS name longer than this are cut into pieces of at most this
            many frames (HDTF clips last minutes); paired RAVDESS clips are never cut.
    """

    dev_actors: list[int] = field(default_factory=list)
    test_actors: list[int] = field(default_factory=list)
    default_level: int = 1
    default_person: int = 0
    max_frames: int = 600


@dataclass
class InferConfig:
    """Prediction: windowing and the reference demo's post-processing.

    Attributes:
        smooth: Savitzky–Golay filter (window 5, order 2) on every channel (reference ``demo.py``).
        blinks: replace eyeBlinkLeft/Right (channels 8, 9) by scripted 7-frame blinks every 60–180
            frames (reference ``demo.py``; our own blink profiles).
        blink_seed: seed of the blink script, so a prediction is reproducible.
        clip: clip the output to [0, 1], the range of ARKit weights (ours; the network has no output
            activation).
        window_frames: frames per network call for long audio (at most 20 s by default).
        overlap_frames: frames shared by neighbouring windows, cross-faded.
        emotion_audio: optional speech file whose emotion to use (the paper's cross-reconstruction:
            content from the input, emotion from this clip); overrides ``emotion``.
        dtype: precision of the network when a checkpoint is loaded for prediction or evaluation:
            ``float32``, ``bfloat16`` (weights and matmuls in bfloat16: half the memory; the large
            preset then fits in 3 GB; outputs within 0.05 of float32's, see the plugin README), or ``auto``:
            bfloat16 for ``model.encoder=large`` on a CPU with native bfloat16 (AVX-512 BF16 or
            AMX), float32 otherwise. Training always runs in float32.
    """

    smooth: bool = True
    blinks: bool = True
    blink_seed: int = option(0, min=0)
    clip: bool = True
    window_frames: int = option(600, min=30, max=3000, step=30)
    overlap_frames: int = option(30, min=0, max=300)
    emotion_audio: str = ""
    dtype: str = option("auto", choices=DTYPES, serve=False)  # read when loading


@dataclass
class RenderConfig:
    """Preview video of the 2-D face.

    Attributes:
        height: frame height in pixels.
        width: frame width in pixels.
    """

    height: int = option(512, min=64, max=2048, step=2)
    width: int = option(512, min=64, max=2048, step=2)


@dataclass
class EvalConfig:
    """``avs evaluate emotalk`` options.

    Attributes:
        rig: a ``.npz`` blendshape rig (``neutral`` (V, 3), ``deltas`` (52, V, 3), ``lip_indices``,
            ``eye_indices``) to compute LVE and EVE in its vertex units; empty: coefficient-space
            errors only.
        max_pairs: content/emotion pairs scored for the cross-reconstruction error (a fixed subset).
    """

    rig: str = ""
    max_pairs: int = 500


def _reference_train() -> TrainConfig:
    # A reproduction of EmoTalk trained with Adam 1e-4 for 80 epochs at batch 1; we batch by padding.
    return TrainConfig(epochs=80, iterations_per_epoch=0, batch_size=8, lr_g=1e-4, lr_d=1e-4, checkpoint_every=10)


@dataclass
class EmoTalkConfig:
    """Everything the emotalk method reads; model defaults are the reference's shapes.

    Attributes:
        emotion: ``auto`` (the emotion encoder reads it from the audio) or one of the 8 RAVDESS
            emotions (neutral, calm, happy, sad, angry, fearful, disgust, surprised).
        level: emotion level, 0 (normal) or 1 (strong; the reference demo's default).
        person: speaking style, 0–23 (one per RAVDESS actor; the reference demo uses 0).
        postprocess: ``default`` (``infer.smooth``, ``infer.blinks``, ``infer.clip`` to [0, 1]) or
            ``reference`` (the reference demo's exact post-processing: Savitzky–Golay (5, 2), channels 8/9
            zeroed and the demo's blink curves seeded by ``infer.blink_seed``, no clipping; the
            Live Link CSV is clipped to [0, 1] either way).
    """

    emotion: str = option("auto", choices=("auto", *EMOTIONS))
    level: int = option(1, min=0, max=1)
    person: int = option(0, min=0, max=23)
    postprocess: str = option("default", choices=("default", "reference"))
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    data: DataConfig = field(default_factory=DataConfig)
    infer: InferConfig = field(default_factory=InferConfig)
    render: RenderConfig = field(default_factory=RenderConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    train: TrainConfig = field(default_factory=_reference_train)


CONFIGS = Path(__file__).parent / "configs"
"""The experiment files (``paper``, ``small``, ``default-checkpoint``...): ``avs train emotalk --config NAME``."""


def __getattr__(attr: str) -> list[str]:
    if attr == "SMALL_PRESET":  # the overrides of configs/small.yaml (read on first use)
        from avs.api import yaml_overrides

        return yaml_overrides(CONFIGS / "small.yaml")
    raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")

