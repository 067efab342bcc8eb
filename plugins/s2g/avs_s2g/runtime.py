"""Speech2Gesture without torch (``Method.onnx.runtime``): the generator's ONNX graph run with onnxruntime,
everything else shared with the torch implementation (:mod:`avs_s2g.pipeline`, :mod:`avs_s2g.render`).
Imports neither torch nor a module that does."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from avs.api import Motion, OnnxRuntimeImpl
from avs_s2g import pipeline, render


class S2GRuntime(OnnxRuntimeImpl):
    """``predict`` and ``renderer`` of :class:`avs_s2g.method.S2GMethod` on the exported generator
    (:func:`avs_s2g.export.onnx_graph`: inputs ``mel``, ``num_frames``; output ``pose``)."""

    def _run(self, mel: np.ndarray, num_frames: int) -> np.ndarray:
        return self.graph.run(mel=mel, num_frames=np.asarray(num_frames, np.int64))["pose"][0]

    def predict(self, audio: np.ndarray, inputs: Mapping[str, Path] | None = None) -> Motion:
        return pipeline.predict(self._run, audio, self.cfg, self.stats)

    def renderer(self) -> Any:
        return render.build_renderer(self.cfg, self.stats)
