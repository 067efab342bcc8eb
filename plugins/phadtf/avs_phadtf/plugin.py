"""Registration of PHADTF with avs (entry point ``avs.plugins``: ``phadtf``). No torch at import."""

from __future__ import annotations

from pathlib import Path

from avs.api import Method, hookimpl, lazy
from avs_phadtf.config import PhadtfConfig

PAPER = (
    "Yi, Ye, Zhang, Bao, Liu. Audio-driven Talking Face Video Generation with Learning-based Personalized "
    "Head Pose. arXiv 2002.10137, 2020. Reference code: https://github.com/yiranran/Audio-driven-TalkingFace-HeadPose"
)
CHECKPOINTS = Path(__file__).parent / "checkpoints"

_FACE = {"psnr": True, "ssim": True, "lmd": False, "identity_cos": True, "pose_error_deg": False, "hs": True,
         "lip_sync_corr": True, "face_found": True}
DIRECTIONS = {"atc_mse": False, **_FACE,
              **{f"{k}@{row}": v for row in ("no_gan", "still_first_frame", "other_clip") for k, v in _FACE.items()}}


@hookimpl
def avs_methods() -> list[Method]:
    """The PHADTF method record."""
    default = CHECKPOINTS / "general_small.safetensors"
    return [
        Method(
            name="phadtf",
            task="face-image",
            summary="PHADTF: MFCC → ATC_net (expression + head pose), background matching, face render, "
                    "memory-augmented GAN → photoreal video of one person (25 fps)",
            paper=PAPER,
            config_class=PhadtfConfig,
            sample_rate=16000,
            fps=25.0,
            impl=lazy("avs_phadtf.method:PhadtfMethod"),
            default_checkpoint=default if default.is_file() else None,
            metric_directions=DIRECTIONS,
            predict_inputs=("target",),
        )
    ]
