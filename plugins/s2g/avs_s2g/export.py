"""The s2g generator for ONNX export (``Method.onnx.graph``): ``avs export onnx s2g CHECKPOINT``."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from avs.api import OnnxGraph
from avs_s2g.pipeline import padded_frames, window_mel

CHECK_FRAMES = (32, 128, 352)
"""Further pose lengths on which onnxruntime must agree with torch (log-mel lengths 213, 853 and 2346:
both parities, so the stride-2 convolutions' padding is exercised both ways)."""


class GeneratorWindow(torch.nn.Module):
    """``(mel (B, T_mel, 64) float32, num_frames () int64) -> pose (B, num_frames, 98)``: the generator with
    its length as a tensor, so the traced graph takes any window (:class:`avs_s2g.model.AudioToPoseGenerator`)."""

    def __init__(self, generator: torch.nn.Module) -> None:
        super().__init__()
        self.generator = generator

    def forward(self, mel: torch.Tensor, num_frames: torch.Tensor) -> torch.Tensor:
        if not torch.jit.is_tracing():  # eager (the parity check): a Python int, as predict passes
            return self.generator(mel, int(num_frames))
        return self.generator(mel, num_frames)


def _inputs(frames: int, rng: np.random.Generator) -> dict[str, torch.Tensor]:
    audio = (0.1 * rng.standard_normal(round((frames + 2) * 16000 / 15))).astype(np.float32)
    return {"mel": torch.from_numpy(window_mel(audio, 0, frames)), "num_frames": torch.tensor(frames)}


def onnx_graph(impl: Any) -> OnnxGraph:
    """The generator of ``impl`` for one inference window of any length.

    Example input: one window of ``infer.window_frames`` (padded to a multiple of 32) of noise's log-mel;
    checks at :data:`CHECK_FRAMES`. Inputs ``mel`` (1, T_mel, 64) float32 and ``num_frames`` () int64;
    output ``pose`` (1, num_frames, 98) float32 normalised.
    """
    rng = np.random.default_rng(0)
    window = padded_frames(int(impl.cfg.infer.window_frames))
    return OnnxGraph(
        module=GeneratorWindow(impl.generator).eval(),
        inputs=_inputs(window, rng),
        outputs=("pose",),
        dynamic_axes={"mel": {0: "batch", 1: "mel_frames"}, "pose": {0: "batch", 1: "frames"}},
        checks=[_inputs(frames, rng) for frames in CHECK_FRAMES],
    )
