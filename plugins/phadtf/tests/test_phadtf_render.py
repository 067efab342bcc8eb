"""The texture-warp renderer on synthetic meshes: triangulation, culling, warping, compositing."""

from __future__ import annotations

import numpy as np

from avs_phadtf.render import (
    FaceTexture,
    crop_affine,
    paste_back,
    rasterize,
    signed_area,
    texture_warp,
    triangulate,
)


def _grid(n: int = 9, size: float = 100.0, offset: float = 10.0) -> np.ndarray:
    g = np.linspace(0, size, n)
    xx, yy = np.meshgrid(g, g)
    return np.stack([xx.ravel() + offset, yy.ravel() + offset], axis=1)


def test_triangulation_covers_and_drops_the_hole() -> None:
    pts = _grid()
    tri = triangulate(pts)
    assert np.all(signed_area(pts, tri) > 0)
    assert abs(signed_area(pts, tri).sum() / 2 - 100 * 100) < 1e-6  # the square's area, no overlaps
    hole = [30, 31, 32, 41, 50, 49, 48, 39]  # a ring around the centre point 40
    tri_h = triangulate(pts, hole)
    assert len(tri_h) < len(tri)
    assert not np.any(np.all(np.isin(tri_h, hole + [40]), axis=1) & np.any(tri_h == 40, axis=1))


def test_identity_warp_reproduces_the_texture() -> None:
    pts = _grid()
    rng = np.random.default_rng(0)
    tex = (rng.uniform(0, 255, (120, 120, 3))).astype(np.uint8)
    tex = np.asarray(__import__("cv2").GaussianBlur(tex, (0, 0), 3))
    tri = triangulate(pts)
    img, cover = texture_warp(tex, pts, pts, np.zeros(len(pts)), tri, (120, 120))
    inner = cover.copy()
    inner[:12], inner[108:], inner[:, :12], inner[:, 108:] = False, False, False, False
    assert cover[15:105, 15:105].all() and not cover[:8].any()
    diff = np.abs(img[inner].astype(int) - tex[inner].astype(int))
    assert diff.mean() < 1.0


def test_translation_moves_the_texture_and_back_faces_are_culled() -> None:
    pts = _grid()
    tex = np.zeros((120, 120, 3), np.uint8)
    tex[10:60, 10:110] = (255, 0, 0)
    tex[60:110, 10:110] = (0, 0, 255)
    tri = triangulate(pts)
    img, cover = texture_warp(tex, pts, pts + [5.0, 0.0], np.zeros(len(pts)), tri, (120, 120))
    assert tuple(img[30, 100]) == (255, 0, 0) and tuple(img[90, 100]) == (0, 0, 255)
    assert not cover[50, 12]  # left of the shifted mesh
    mirrored = pts.copy()
    mirrored[:, 0] = 120 - mirrored[:, 0]  # seen from behind: every triangle flips orientation
    assert (rasterize(mirrored, np.zeros(len(pts)), tri, (120, 120)) < 0).all()


def test_depth_order_nearer_triangle_wins() -> None:
    square = np.array([[10.0, 10], [90, 10], [90, 90], [10, 90]])
    pts = np.concatenate([square, square + 5])
    tri = np.array([[0, 1, 2], [0, 2, 3], [4, 5, 6], [4, 6, 7]])
    tri = np.stack([t if signed_area(pts, t[None])[0] > 0 else t[[0, 2, 1]] for t in tri])
    depth = np.array([0, 0, 0, 0, 5, 5, 5, 5], float)  # second square farther
    ids = rasterize(pts, depth, tri, (100, 100))
    assert ids[50, 50] in (0, 1)
    depth = -depth
    ids = rasterize(pts, depth, tri, (100, 100))
    assert ids[50, 50] in (2, 3)


def test_crop_and_paste_back_round_trip() -> None:
    frame = np.zeros((90, 160, 3), np.uint8)
    frame[:, :, 1] = 100
    a = crop_affine(np.array([80.0, 45.0]), 60.0, 64)
    crop = np.full((64, 64, 3), 200, np.uint8)
    out = paste_back(frame, crop, a, feather=2.0)
    assert out.shape == frame.shape
    assert tuple(out[45, 80]) == (200, 200, 200)  # centre replaced
    assert tuple(out[5, 5]) == (0, 100, 0)  # outside the crop untouched
    tex = FaceTexture.from_frame(np.zeros((10, 10, 3), np.uint8), np.c_[_grid(22, 8, 1)[:468], np.zeros(468)])
    assert tex.tri.shape[1] == 3
