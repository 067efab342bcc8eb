"""Registration of Speech Drives Templates with avs (entry point ``avs.plugins``: ``sdt``).

Importing this module is cheap: no torch. The implementation (:class:`avs_sdt.method.SDTMethod`)
is a :class:`avs.api.lazy` reference, imported when a command needs it.
"""

from __future__ import annotations

from pathlib import Path

from avs.api import GESTURE_DIRECTIONS, Method, hookimpl, lazy
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
        config_class=SDTConfig,
        sample_rate=16000,
        fps=15.0,
        impl=lazy("avs_sdt.method:SDTMethod"),
        metric_directions={**GESTURE_DIRECTIONS, "l1": False, "l2_px": False, "ftd_mu_logvar": False},
        default_checkpoint=DEFAULT_CHECKPOINT if DEFAULT_CHECKPOINT.is_file() else None,
    )


@hookimpl
def avs_methods() -> list[Method]:
    """The sdt method record."""
    return [sdt_method()]
