"""Metrics shared by every method (``docs``: /work/shared/specs/metrics.md).

Numpy only, no torch, so that importing them is cheap.

- :func:`l1`: mean absolute error.
- :func:`pck`: percentage of correct keypoints at a fraction of the ground-truth bounding box.
"""

from avs.metrics.keypoints import l1, pck

__all__ = ["l1", "pck"]
