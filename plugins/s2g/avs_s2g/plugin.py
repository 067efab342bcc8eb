"""Registration of Speech2Gesture with avs (entry point ``avs.plugins``: ``s2g``).

Importing this module is cheap: no torch. The implementation (:class:`avs_s2g.method.S2GMethod`)
is a :class:`avs.api.lazy` reference, imported when a command needs it.
"""

from __future__ import annotations

from pathlib import Path

from avs.api import GESTURE_DIRECTIONS, Method, OnnxInference, hookimpl, lazy
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
            config_class=S2GConfig,
            sample_rate=16000,
            fps=15.0,
            impl=lazy("avs_s2g.method:S2GMethod"),
            metric_directions={"l1": False, **GESTURE_DIRECTIONS},
            default_checkpoint=DEFAULT_CHECKPOINT if DEFAULT_CHECKPOINT.is_file() else None,
            # torch-free predict path: `avs export onnx s2g CKPT` writes CKPT's .onnx sidecar
            onnx=OnnxInference(graph=lazy("avs_s2g.export:onnx_graph"), runtime=lazy("avs_s2g.runtime:S2GRuntime"),
                               tolerance=1e-4),
        )
    ]
