"""Registration of Speech Drives Templates with avs (entry point ``avs.plugins``: ``sdt``).

Importing this module is cheap: no torch. Every factory imports its module when called.
"""

from __future__ import annotations

from pathlib import Path

from avs.evaluation import GESTURE_DIRECTIONS
from avs.method import Method, lazy
from avs.plugins import hookimpl
from avs_sdt import __version__
from avs_sdt.config import SDTConfig

PAPER = (
    "Qian, Tu, Zhi, Liu, Gao. Speech Drives Templates: Co-Speech Gesture Synthesis with Learned Templates. "
    "ICCV 2021. Reference code: https://github.com/ShenhanQian/SpeechDrivesTemplates"
)
DEFAULT_CHECKPOINT = Path(__file__).parent / "checkpoints" / "default.safetensors"


def sdt_method() -> Method:
    """The Speech Drives Templates method record (all four variants; ``variant=`` selects)."""
    return Method(
        name="sdt",
        task="gesture-2d",
        summary="Speech Drives Templates: mel → 137 keypoints (15 fps) with learned templates; "
                "variant=sdt-bp|sdt-vae|s2g|pose-vae",
        paper=PAPER,
        version=__version__,
        config_class=SDTConfig,
        sample_rate=16000,
        fps=15.0,
        build_generator=lazy("avs_sdt.model:build_generator"),
        build_discriminator=lazy("avs_sdt.model:build_discriminator"),
        compute_stats=lazy("avs_sdt.data:compute_stats"),
        build_dataset=lazy("avs_sdt.data:build_dataset"),
        generator_loss=lazy("avs_sdt.recipe:generator_loss"),
        discriminator_loss=lazy("avs_sdt.recipe:discriminator_loss"),
        validate=lazy("avs_sdt.recipe:validate"),
        predict=lazy("avs_sdt.inference:predict"),
        build_renderer=lazy("avs_sdt.render:build_renderer"),
        evaluate=lazy("avs_sdt.inference:evaluate"),
        metric_directions={**GESTURE_DIRECTIONS, "l1": False, "l2_px": False, "ftd_mu_logvar": False},
        synthesize_data=lazy("avs_sdt.synth:synthesize"),
        default_checkpoint=DEFAULT_CHECKPOINT if DEFAULT_CHECKPOINT.is_file() else None,
        val_key="l1",
        import_weights=lazy("avs_sdt.importer:import_weights"),
        render_examples=lazy("avs_sdt.render:render_examples"),
        predict_clips=lazy("avs_sdt.inference:predict_clips"),
    )


@hookimpl
def avs_methods() -> list[Method]:
    """The sdt method record."""
    return [sdt_method()]
