"""Render of the face model: a texture warp over the projected mesh triangles (OpenCV), blended into a real frame.

PHADTF renders its 3DMM (BFM geometry, fitted texture, SH lighting) with a TF mesh renderer, blends the render
into the background frame (``alpha_blend_vbg.m``) and lets the GAN turn that into a photoreal frame. Here the
geometry is the open face model's mesh (MediaPipe's 468 points) driven by expression and pose; its texture is
one frontal frame of the person (texture coordinates = that frame's projected vertices, so lighting is baked
in); triangles are rasterised far to near with back faces culled, and every covered pixel samples the texture
through its triangle's affine map (one ``cv2.remap``). The mesh has no mouth cavity: the inner-lip polygon is
filled with a dark mouth colour, as a cue for the GAN. All of it happens in the face crop's coordinates.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

MESH_POINTS = 468
INNER_LIP = [78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308, 324, 318, 402, 317, 14, 87, 178, 88, 95]
"""MediaPipe face-mesh indices of the inner lip contour, in order around the mouth."""


def triangulate(points: np.ndarray, hole: list[int] | None = None) -> np.ndarray:
    """Triangles of a 2-D point layout (Delaunay), without those inside the ``hole`` polygon.

    Args:
        points: (V, 2) vertex positions of one frontal face.
        hole: indices of a polygon (the inner lip) whose interior triangles are dropped.

    Returns:
        (F, 3) int32 vertex indices, counter-clockwise in image coordinates (y down).
    """
    from scipy.spatial import Delaunay

    tri = Delaunay(points).simplices.astype(np.int32)
    if hole is not None and len(points) > max(hole):
        poly = points[hole].astype(np.float32)
        cent = points[tri].mean(axis=1).astype(np.float32)
        inside = np.array([cv2.pointPolygonTest(poly, (float(x), float(y)), False) > 0 for x, y in cent])
        tri = tri[~inside]
    return orient(points, tri)


def signed_area(points: np.ndarray, tri: np.ndarray) -> np.ndarray:
    """(F,) twice the signed area of each triangle (positive = counter-clockwise in x-right, y-up)."""
    a, b, c = points[tri[:, 0]], points[tri[:, 1]], points[tri[:, 2]]
    return (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])


def orient(points: np.ndarray, tri: np.ndarray) -> np.ndarray:
    """Triangles reordered so that every signed area is positive in ``points``' layout."""
    tri = tri.copy()
    flip = signed_area(points, tri) < 0
    tri[flip] = tri[flip][:, [0, 2, 1]]
    return tri


def rasterize(xy: np.ndarray, depth: np.ndarray, tri: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Triangle-index buffer of a projected mesh (painter's algorithm, back faces culled).

    Args:
        xy: (V, 2) vertex pixel positions in the output image.
        depth: (V,) depth, larger = farther (MediaPipe's z convention).
        tri: (F, 3) triangles oriented positively in the texture layout; a triangle whose orientation flips
            in ``xy`` faces away and is culled.
        size: (height, width).

    Returns:
        (H, W) int32: index of the triangle covering each pixel, −1 where none does.
    """
    h, w = size
    ids = np.full((h, w), -1, dtype=np.int32)
    visible = np.nonzero(signed_area(xy, tri) > 0)[0]
    order = visible[np.argsort(-depth[tri[visible]].mean(axis=1), kind="stable")]
    pts = np.round(xy * 16).astype(np.int32)
    for f in order:
        cv2.fillConvexPoly(ids, pts[tri[f]], int(f), lineType=cv2.LINE_8, shift=4)
    return ids


def triangle_maps(dst: np.ndarray, src: np.ndarray, tri: np.ndarray) -> np.ndarray:
    """(F, 2, 3) affine maps taking each triangle's destination pixels to its source (texture) pixels."""
    ones = np.ones((len(tri), 3, 1))
    d = np.concatenate([dst[tri], ones], axis=2)  # (F, 3, 3) rows [x y 1]
    s = src[tri]  # (F, 3, 2)
    det = np.linalg.det(d)
    d[np.abs(det) < 1e-9] += np.eye(3) * 1e-6
    return np.transpose(np.linalg.solve(d, s), (0, 2, 1))


def texture_warp(texture: np.ndarray, uv: np.ndarray, xy: np.ndarray, depth: np.ndarray, tri: np.ndarray,
                 size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Render the textured mesh.

    Args:
        texture: (Ht, Wt, 3) uint8 texture image.
        uv: (V, 2) texture pixel coordinates of the vertices.
        xy, depth, tri, size: as :func:`rasterize`.

    Returns:
        ``(image (H, W, 3) uint8, coverage (H, W) bool)``; uncovered pixels are 0.
    """
    ids = rasterize(xy, depth, tri, size)
    cover = ids >= 0
    maps = triangle_maps(xy.astype(np.float64), uv.astype(np.float64), tri)
    ys, xs = np.nonzero(cover)
    m = maps[ids[ys, xs]]
    map_x = np.full(size, -1.0, np.float32)
    map_y = np.full(size, -1.0, np.float32)
    map_x[ys, xs] = m[:, 0, 0] * xs + m[:, 0, 1] * ys + m[:, 0, 2]
    map_y[ys, xs] = m[:, 1, 0] * xs + m[:, 1, 1] * ys + m[:, 1, 2]
    img = cv2.remap(texture, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    img[~cover] = 0
    return img, cover


def crop_affine(center: np.ndarray, side: float, size: int) -> np.ndarray:
    """(2, 3) affine taking full-frame pixels to a ``size``² crop of side ``side`` pixels around ``center``."""
    s = size / side
    return np.array([[s, 0.0, size / 2 - s * center[0]], [0.0, s, size / 2 - s * center[1]]])


def apply_affine(a: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """(N, 2) points through a (2, 3) affine."""
    return pts @ a[:, :2].T + a[:, 2]


def feather_mask(mask: np.ndarray, sigma: float) -> np.ndarray:
    """(H, W) float32 in [0, 1]: a binary mask eroded by ~sigma and Gaussian-blurred (soft blend edges)."""
    m = mask.astype(np.float32)
    if sigma <= 0:
        return m
    k = max(1, int(round(sigma)))
    m = cv2.erode(m, np.ones((2 * k + 1, 2 * k + 1), np.uint8))
    return cv2.GaussianBlur(m, (0, 0), sigma)


@dataclass
class FaceTexture:
    """The person's texture: a frontal frame and its projected mesh (texture coordinates), plus triangles.

    Attributes:
        image: (H, W, 3) uint8 full frame.
        uv: (V, 2) vertex pixel positions in ``image``.
        tri: (F, 3) triangles, positively oriented in ``uv``.
    """

    image: np.ndarray
    uv: np.ndarray
    tri: np.ndarray

    @classmethod
    def from_frame(cls, image: np.ndarray, vertices: np.ndarray) -> FaceTexture:
        """Texture from one frame and its mesh vertices (V ≥ 468, 3) in that frame's pixels."""
        uv = vertices[:MESH_POINTS, :2].astype(np.float64)
        return cls(image=image, uv=uv, tri=triangulate(uv, INNER_LIP))


def render_blend(texture: FaceTexture, vertices: np.ndarray, background: np.ndarray, affine: np.ndarray,
                 size: int, mouth_color: tuple[int, int, int] = (60, 20, 25), feather: float = 6.0) -> np.ndarray:
    """One blended render in crop coordinates.

    Args:
        texture: the person's texture.
        vertices: (V ≥ 468, 3) mesh in full-frame pixels (x, y, depth) for this frame's expression and pose.
        background: (H, W, 3) uint8 real frame whose background the render is blended into.
        affine: (2, 3) full frame → crop.
        size: crop side in pixels.
        mouth_color: RGB of the mouth interior.
        feather: blend-edge softness in pixels at 256 (scaled with ``size``).

    Returns:
        (size, size, 3) uint8: the crop of ``background`` with the rendered face blended in.
    """
    bg = cv2.warpAffine(background, affine, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    v = vertices[:MESH_POINTS]
    xy = apply_affine(affine, v[:, :2].astype(np.float64))
    depth = v[:, 2].astype(np.float64)
    img, cover = texture_warp(texture.image, texture.uv, xy, depth, texture.tri, (size, size))
    mouth = np.zeros((size, size), np.uint8)
    cv2.fillPoly(mouth, [np.round(xy[INNER_LIP] * 16).astype(np.int32)], 1, lineType=cv2.LINE_AA, shift=4)
    img[mouth > 0] = np.asarray(mouth_color, np.uint8)
    cover = cover | (mouth > 0)
    alpha = feather_mask(cover, feather * size / 256.0)[..., None]
    return (alpha * img + (1 - alpha) * bg).round().clip(0, 255).astype(np.uint8)


def paste_back(frame: np.ndarray, crop: np.ndarray, affine: np.ndarray, feather: float = 6.0) -> np.ndarray:
    """Composite a (S, S, 3) crop back into its (H, W, 3) full frame through the inverse of ``affine``,
    with feathered crop borders. Returns a new uint8 frame."""
    h, w = frame.shape[:2]
    s = crop.shape[0]
    inv = cv2.invertAffineTransform(affine)
    back = cv2.warpAffine(crop, inv, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    border = np.ones((s, s), np.float32)
    alpha = cv2.warpAffine(feather_mask(np.pad(border[1:-1, 1:-1], 1), feather * s / 256.0), inv, (w, h))
    alpha = alpha[..., None]
    return (alpha * back + (1 - alpha) * frame).round().clip(0, 255).astype(np.uint8)


def smooth_boxes(boxes: np.ndarray, window: int) -> np.ndarray:
    """(T, 4) face boxes smoothed by a centred moving average of ``window`` frames (edges: shorter windows)."""
    if window <= 1 or len(boxes) < 2:
        return boxes.astype(np.float64)
    k = np.ones(window)
    pad = window // 2
    b = np.pad(boxes.astype(np.float64), ((pad, pad), (0, 0)), mode="edge")
    return np.stack([np.convolve(b[:, i], k / window, mode="valid")[: len(boxes)] for i in range(4)], axis=1)


def crop_affines(boxes: np.ndarray, scale: float, size: int, window: int) -> np.ndarray:
    """(T, 2, 3) crop affines of a face-box track: square crops ``scale`` × the larger box side, smoothed."""
    b = smooth_boxes(boxes, window)
    center = np.stack([(b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2], axis=1)
    side = scale * np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])
    side = np.full_like(side, np.median(side))  # one crop size per person: the head's scale stays put
    return np.stack([crop_affine(c, s, size) for c, s in zip(center, side, strict=True)])
