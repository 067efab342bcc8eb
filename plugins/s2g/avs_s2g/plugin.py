"""Registration of Speech2Gesture with avs (entry point ``avs.plugins``: ``s2g``).

Importing this module is cheap: no torch. Every factory is :class:`avs.method.lazy`, which
imports its module when first called.
"""

from __future__ import annotations

from pathlib import Path

from avs.evaluation import GESTURE_DIRECTIONS
from avs.method import Method, lazy
from avs.plugins import hookimpl
from avs_s2g import __version__
from avs_s2g.config import S2GConfig

PAPER = (
    "Ginosar, Bar, Kohavi, Chan, Owens, Malik. Learning Individual Styles of Conversational Gesture. "
    "CVPR 2019. Reference code: https://github.com/amirbar/speech2gesture"
)
DEFAULT_CHECKPOINT = Path(__file__).parent / "checkpoints" / "default.safetensors"


@hookimpl
def avs_methods() -> list[Method]:
    """The Speech2Gesture method record."""
    return [
        Method(
            name="s2g",
            task="gesture-2d",
            summary="Speech2Gesture: log-mel → 49 upper-body keypoints (15 fps), U-Net + PatchGAN, LSGAN + L1",
            paper=PAPER,
            version=__version__,
            config_class=S2GConfig,
            sample_rate=16000,
            fps=15.0,
            build_generator=lazy("avs_s2g.model:build_generator"),
            build_discriminator=lazy("avs_s2g.model:build_discriminator"),
            compute_stats=lazy("avs_s2g.data:compute_stats"),
            build_dataset=lazy("avs_s2g.data:build_dataset"),
            generator_loss=lazy("avs_s2g.recipe:generator_loss"),
            discriminator_loss=lazy("avs_s2g.recipe:discriminator_loss"),
            validate=lazy("avs_s2g.recipe:validate"),
            predict=lazy("avs_s2g.inference:predict"),
            build_renderer=lazy("avs_s2g.render:build_renderer"),
            evaluate=lazy("avs_s2g.inference:evaluate"),
            metric_directions={"l1": False, **GESTURE_DIRECTIONS},
            synthesize_data=lazy("avs_s2g.synth:synthesize"),
            default_checkpoint=DEFAULT_CHECKPOINT if DEFAULT_CHECKPOINT.is_file() else None,
            val_key="l1",
            predict_clips=lazy("avs_s2g.inference:predict_clips"),
            render_examples=lazy("avs_s2g.render:render_examples"),
        )
    ]
