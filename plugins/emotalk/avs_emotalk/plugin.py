"""Registration of EmoTalk with avs (entry point ``avs.plugins``: ``emotalk``).

Importing this module is cheap: no torch, no transformers. The implementation
(:class:`avs_emotalk.method.EmoTalkMethod`) is a :class:`avs.api.lazy` reference, imported when a command needs it.
"""

from __future__ import annotations

from pathlib import Path

from avs.api import Method, hookimpl, lazy
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
            config_class=EmoTalkConfig,
            sample_rate=16000,
            fps=30.0,
            impl=lazy("avs_emotalk.method:EmoTalkMethod"),
            metric_directions={"coef_mae_mouth_jaw": False, "coef_mae_eyes_brows": False, "coef_mae_all": False,
                               "coef_velocity_mae": False, "cross_coef_mae_all": False, "emotion_accuracy": True,
                               "lve": False, "eve": False},
            default_checkpoint=DEFAULT_CHECKPOINT if DEFAULT_CHECKPOINT.is_file() else None,
        )
    ]
