"""Registration of EmoTalk with avs (entry point ``avs.plugins``: ``emotalk``).

Importing this module is cheap: no torch, no transformers. Every factory imports its module when called.
"""

from __future__ import annotations

from pathlib import Path

from avs.method import Method, lazy
from avs.plugins import hookimpl
from avs_emotalk import __version__
from avs_emotalk.config import EmoTalkConfig

PAPER = (
    "Peng, Wu, Song, Xu, Zhu, He, Liu, Fan. EmoTalk: Speech-Driven Emotional Disentanglement for 3D Face "
    "Animation. ICCV 2023, pp. 20687-20697. Reference code: https://github.com/psyai-net/EmoTalk_release "
    "(inference only, CC BY-NC 4.0)"
)
DEFAULT_CHECKPOINT = Path(__file__).parent / "checkpoints" / "default.safetensors"


@hookimpl
def avs_methods() -> list[Method]:
    """The EmoTalk method record."""
    return [
        Method(
            name="emotalk",
            task="face-blendshape",
            summary="EmoTalk: speech → 52 ARKit blendshapes (30 fps), wav2vec2 content/emotion encoders, "
                    "emotion/level/person controls",
            paper=PAPER,
            version=__version__,
            config_class=EmoTalkConfig,
            sample_rate=16000,
            fps=30.0,
            build_generator=lazy("avs_emotalk.model:build_generator"),
            compute_stats=lazy("avs_emotalk.data:compute_stats"),
            build_dataset=lazy("avs_emotalk.data:build_dataset"),
            generator_loss=lazy("avs_emotalk.recipe:generator_loss"),
            validate=lazy("avs_emotalk.recipe:validate"),
            predict=lazy("avs_emotalk.inference:predict"),
            build_renderer=lazy("avs_emotalk.render:build_renderer"),
            evaluate=lazy("avs_emotalk.inference:evaluate"),
            metric_directions={"coef_mae_mouth_jaw": False, "coef_mae_eyes_brows": False, "coef_mae_all": False,
                               "coef_velocity_mae": False, "cross_coef_mae_all": False, "emotion_accuracy": True,
                               "lve": False, "eve": False},
            build_discriminator=None,
            discriminator_loss=None,
            synthesize_data=lazy("avs_emotalk.synth:synthesize"),
            default_checkpoint=DEFAULT_CHECKPOINT if DEFAULT_CHECKPOINT.is_file() else None,
            val_key="mse",
            import_weights=lazy("avs_emotalk.importer:import_weights"),
            collate=lazy("avs_emotalk.data:collate"),
            export_motion=lazy("avs_emotalk.export:export_motion"),
            render_examples=lazy("avs_emotalk.render:render_examples"),
        )
    ]
