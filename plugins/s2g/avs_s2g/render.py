"""Stick-figure rendering of the 49 Speech2Gesture keypoints, with core's skeleton renderer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from avs.api import SkeletonRenderer
from avs_s2g.skeleton import EDGE_COLORS, EDGES


def build_renderer(cfg: Any, stats: Any) -> SkeletonRenderer:
    """A renderer drawing arms and both hands (49 keypoints) on a white canvas.

    Size is ``(cfg.render.height, cfg.render.width)`` pixels; the reference drew with
    matplotlib at 400 dpi and 29.97 fps, we draw natively at the pose rate (15 fps).
    """
    return SkeletonRenderer(
        EDGES,
        EDGE_COLORS,
        size=(int(cfg.render.height), int(cfg.render.width)),
        line_width=int(cfg.render.line_width),
    )


def render_examples(G: Any, dataset: Any, cfg: Any, stats: Any, n: int, out_dir: Path) -> list[Path]:
    """Videos of the first ``n`` windows of a split: prediction (left) beside ground truth (right).

    Both panels share one view transform, so sizes and positions compare directly; each mp4 has
    the window's audio, 64 frames at 15 fps, written atomically as ``out_dir/clip_XXXX.mp4``.

    Raises:
        AvsError: an empty split (from :func:`avs_s2g.inference.predict_clips`).
    """
    from avs.api import side_by_side, write_video
    from avs_s2g.inference import predict_clips

    clips = predict_clips(G, dataset, cfg, stats)
    renderer = build_renderer(cfg, stats)
    out_dir = Path(out_dir)
    written = []
    for i in range(min(int(n), len(clips.gt))):
        view = renderer.fit(np.concatenate([clips.pred[i], clips.gt[i]]))
        pred = (renderer.render_frame(kp, view) for kp in clips.pred[i])
        real = (renderer.render_frame(kp, view) for kp in clips.gt[i])
        path = out_dir / f"clip_{i:04d}.mp4"
        write_video(path, side_by_side(pred, real, gap=8), clips.fps, len(clips.gt[i]), audio=clips.audio[i],
                    sample_rate=clips.sample_rate)
        written.append(path)
    return written
