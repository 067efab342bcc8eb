"""The full 137-keypoint stick figure (body, face, both hands with coloured fingers), drawn with
core's :class:`avs.render.SkeletonRenderer` on a white canvas; prediction alone (``avs predict``)
or prediction beside ground truth under one view (``avs evaluate --videos N``).

The reference (SDT ``core/utils/keypoint_visualization.py``) draws neck-relative poses scaled by
0.85 around the canvas centre; here one view transform is fitted to the whole sequence (both
panels together for a comparison), which keeps any data scale in frame.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from avs.api import AvsError, SkeletonRenderer, fit_view
from avs_sdt.keypoints import skeleton_137

LABEL_COLOR = (90, 90, 90)


def build_renderer(cfg: Any, stats: Any = None, width: int | None = None) -> SkeletonRenderer:
    """A renderer of (T, 137, 2) keypoints: ``cfg.render.height`` × (``width`` or ``cfg.render.width``)
    pixels, white, body green (4 px), face grey (2 px), fingers one colour each (3 px), no joint dots."""
    edges, colors, widths = skeleton_137()
    return SkeletonRenderer(
        edges, colors, size=(int(cfg.render.height), int(width or cfg.render.width)), line_width=4,
        joint_radius=0, margin=float(cfg.render.margin), line_widths=widths,
    )


def _label(frame: np.ndarray, text: str) -> np.ndarray:
    cv2.putText(frame, text, (16, 36), cv2.FONT_HERSHEY_SIMPLEX, 0.9, LABEL_COLOR, 2, cv2.LINE_AA)
    return frame


def pair_frames(pred: np.ndarray, gt: np.ndarray, cfg: Any) -> Iterator[np.ndarray]:
    """Prediction | ground truth, one view transform fitted to both, each panel half the frame width.

    Args:
        pred, gt: (T, 137, 2) keypoints in pixels (NaN points are skipped).
        cfg: an :class:`avs_sdt.config.SDTConfig` (``render``).

    Yields:
        T frames of (height, width, 3) uint8 RGB.

    Raises:
        AvsError: the two sequences differ in shape.
    """
    if pred.shape != gt.shape:
        raise AvsError(f"prediction {pred.shape} and ground truth {gt.shape} differ in shape")
    half = int(cfg.render.width) // 2
    renderer = build_renderer(cfg, None, width=half)
    view = fit_view(np.concatenate([pred, gt]), renderer.size, renderer.margin)
    for p, g in zip(pred, gt, strict=True):
        yield np.concatenate([_label(renderer.render_frame(p, view), "prediction"),
                              _label(renderer.render_frame(g, view), "ground truth")], axis=1)


def render_examples(G: Any, dataset: Any, cfg: Any, stats: Any, n: int, out_dir: Path) -> list[Path]:
    """``n`` clips of a split as mp4 (prediction beside ground truth, 15 fps, the clip's audio).

    Clips are spread evenly over the split; files are ``<out_dir>/<index>_<speaker>.mp4``, each
    written atomically.

    Returns:
        the paths written.
    """
    from avs.api import write_video
    from avs_sdt.data import FPS, SAMPLE_RATE
    from avs_sdt.inference import iter_clip_predictions

    if n <= 0 or len(dataset) == 0:
        return []
    count = min(int(n), len(dataset))
    indices = sorted({int(round(k * (len(dataset) - 1) / max(count - 1, 1))) for k in range(count)})
    out_dir = Path(out_dir)
    written = []
    for i, pred, gt in iter_clip_predictions(G, dataset, cfg, stats, indices):
        speaker = dataset.speakers[int(dataset.speaker_ids[i])]
        path = out_dir / f"{i:04d}_{speaker}.mp4"
        write_video(path, pair_frames(pred, gt, cfg), FPS, len(pred), audio=dataset.audio(i), sample_rate=SAMPLE_RATE)
        written.append(path)
    return written
