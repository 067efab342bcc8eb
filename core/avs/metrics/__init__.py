"""Metrics shared by every method: one implementation each (definitions: README, section Metrics).

Numpy/scipy only, no torch, so importing them is cheap. Each function documents its
definition, unit, direction and the reference it follows.

- keypoints: :func:`l1`, :func:`pck`, :func:`l2_px`, :func:`lip_sync_error`
- distributions: :func:`frechet_distance` (FGD, FTD)
- rhythm: :func:`bc_beat`, :func:`beat_align_aist`, :func:`beat_consistency`
- diversity: :func:`l1div`, :func:`mean_pairwise_distance`
- faces: :func:`region_error`, :func:`velocity_error`, :func:`blendshape_vertices`, :func:`lve`, :func:`eve`
- images: :func:`psnr`, :func:`ssim`
"""

from avs.metrics.beat import audio_beats, bc_beat, beat_align_aist, beat_consistency, motion_beats
from avs.metrics.diversity import l1div, mean_pairwise_distance
from avs.metrics.face import blendshape_vertices, eve, lve, region_error, velocity_error
from avs.metrics.frechet import frechet_distance, frechet_distance_from_stats
from avs.metrics.image import psnr, ssim
from avs.metrics.keypoints import l1, l2_px, lip_sync_error, pck

__all__ = [
    "audio_beats", "bc_beat", "beat_align_aist", "beat_consistency", "blendshape_vertices", "eve",
    "frechet_distance", "frechet_distance_from_stats", "l1", "l1div", "l2_px", "lip_sync_error", "lve",
    "mean_pairwise_distance", "motion_beats", "pck", "psnr", "region_error", "ssim", "velocity_error",
]
