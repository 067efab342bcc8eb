"""Shared renderers any plugin may use (see :mod:`avs.render.skeleton`)."""

from avs.render.skeleton import DEFAULT_PALETTE, SkeletonRenderer, ViewTransform, fit_view, side_by_side

__all__ = ["DEFAULT_PALETTE", "SkeletonRenderer", "ViewTransform", "fit_view", "side_by_side"]
