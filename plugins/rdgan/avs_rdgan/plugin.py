"""Registration of RD-GAN with avs (entry point ``avs.plugins``: ``rdgan``).

Importing this module is cheap: no torch. The implementation (:class:`avs_rdgan.method.RDGANMethod`) is
a :class:`avs.api.lazy` reference, imported when a command needs it.
"""

from __future__ import annotations

from pathlib import Path

from avs.api import Method, hookimpl, lazy
from avs_rdgan.config import FPS, SAMPLE_RATE, RDGANConfig

PAPER = (
    "Guo, Yan, Liu. Facial expression synthesis based on recursive dual generative adversarial networks "
    "(基于递归双对抗网络模型的人脸表情生成). Journal of Hebei University of Technology 2021(1): 20-27; "
    "patent CN111783658A. Reference code: https://github.com/AuroraWJJ/RD-GAN (compiled bytecode only)"
)
DEFAULT_CHECKPOINT = Path(__file__).parent / "checkpoints" / "default.safetensors"

# Directions of every key evaluate() reports (avs_rdgan.evaluate.METRIC_DIRECTIONS, rebuilt here without
# importing that module): the face-image suite's metrics for RD-GAN driven by real landmarks (no suffix), by
# the audio→landmark model (_audio), and the two baselines (_photo, _warp); then the audio→landmark scores.
_SUITE = {"psnr": True, "ssim": True, "lmd": False, "identity_cos": True, "pose_error_deg": False, "hs": True,
          "lip_sync_corr": True, "face_found": True, "identity_to_photo": True}
METRIC_DIRECTIONS: dict[str, bool] = {
    f"{k}{s}": v for s in ("", "_audio", "_photo", "_warp") for k, v in _SUITE.items()
}
METRIC_DIRECTIONS.update({"a2l_l1_px": False, "a2l_l1_px_static": False, "a2l_mouth_corr": True,
                          "a2l_open_rms_corr": True, "a2l_open_rms_corr_real": True})


@hookimpl
def avs_methods() -> list[Method]:
    """The RD-GAN method record."""
    return [
        Method(
            name="rdgan",
            task="face-image",
            summary="RD-GAN: one face photo animated from speech (25 fps): audio → landmarks → edge maps → "
                    "recursive seed + feature-preserving GANs",
            paper=PAPER,
            config_class=RDGANConfig,
            sample_rate=SAMPLE_RATE,
            fps=FPS,
            impl=lazy("avs_rdgan.method:RDGANMethod"),
            default_checkpoint=DEFAULT_CHECKPOINT if DEFAULT_CHECKPOINT.is_file() else None,
            metric_directions=METRIC_DIRECTIONS,
            predict_inputs=("face", "landmarks", "drive"),
        )
    ]
