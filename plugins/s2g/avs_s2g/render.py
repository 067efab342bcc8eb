"""Stick-figure rendering of the 49 Speech2Gesture keypoints, with core's skeleton renderer."""

from __future__ import annotations

from typing import Any

from avs.render import SkeletonRenderer
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
