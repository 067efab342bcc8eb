"""A 2-D skeleton renderer: keypoints and limbs drawn with OpenCV, any K, any edge list.

One view transform (scale and offset) is fitted to the whole sequence, so the figure
does not jitter or breathe from frame to frame; each frame is then a copy of a prepared
background with anti-aliased limbs (``cv2.line``, ``LINE_AA``, sub-pixel coordinates)
and joints (``cv2.circle``) drawn on top.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from avs.errors import AvsError
from avs.motion import Motion

__all__ = ["DEFAULT_PALETTE", "SkeletonRenderer", "ViewTransform", "fit_view", "side_by_side"]

DEFAULT_PALETTE: tuple[tuple[int, int, int], ...] = (
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
    (188, 189, 34),
    (23, 190, 207),
)
"""RGB colours cycled over the edges when none are given (matplotlib's tab10)."""

_SHIFT = 4  # sub-pixel bits for cv2 drawing: coordinates in 1/16 px
_LIMIT = 1 << 20  # clamp for far-away (outlier) points before the int conversion


@dataclass(frozen=True)
class ViewTransform:
    """Maps data coordinates to frame pixels: ``pixel = point * scale + offset``.

    Attributes:
        scale: pixels per data unit (same on both axes, so the aspect is preserved).
        offset: (2,) pixel offset (x, y).
    """

    scale: float
    offset: tuple[float, float]

    def apply(self, points: np.ndarray) -> np.ndarray:
        """(..., 2) data coordinates → (..., 2) float32 pixel coordinates (x right, y down)."""
        return (np.asarray(points, dtype=np.float32) * np.float32(self.scale)
                + np.asarray(self.offset, dtype=np.float32))


def fit_view(
    points: np.ndarray,
    size: tuple[int, int],
    margin: float = 0.1,
    percentiles: tuple[float, float] = (1.0, 99.0),
) -> ViewTransform:
    """Fit one transform that puts ``points`` in the middle of a ``size`` frame.

    The box is robust: per axis, the ``percentiles`` of all finite coordinates of all frames,
    so a few wild keypoints do not shrink the figure. The box is scaled uniformly to fill the
    frame less ``margin`` (fraction of each side) and centred. A box of zero extent (a single
    point, e.g. a still sequence collapsed onto one joint) keeps scale 1 (data units are
    pixels) and is centred; with no finite point at all the identity is returned.

    Args:
        points: (..., 2) float x, y (e.g. (T, K, 2) pixels); NaN entries are ignored.
        size: (height, width) of the frame in pixels.
        margin: empty border as a fraction of the frame's height/width, in [0, 0.5).
        percentiles: lower and upper percentile of the box.

    Returns:
        the :class:`ViewTransform`.

    Raises:
        AvsError: ``points`` does not end in 2, or ``margin`` is out of range.
    """
    points = np.asarray(points, dtype=np.float32)
    if points.ndim < 1 or points.shape[-1] != 2:
        raise AvsError(f"keypoints must have shape (..., 2), got {points.shape}")
    if not 0 <= margin < 0.5:
        raise AvsError(f"margin must be in [0, 0.5), got {margin}")
    height, width = size
    flat = points.reshape(-1, 2)
    flat = flat[np.isfinite(flat).all(axis=1)]
    if flat.shape[0] == 0:
        return ViewTransform(1.0, (0.0, 0.0))
    low = np.percentile(flat, percentiles[0], axis=0)
    high = np.percentile(flat, percentiles[1], axis=0)
    extent = high - low
    avail = np.array([width * (1 - 2 * margin), height * (1 - 2 * margin)])
    tiny = 1e-6 * max(float(np.abs(flat).max()), 1.0)
    ratios = [avail[i] / extent[i] for i in range(2) if extent[i] > tiny]
    scale = float(min(ratios)) if ratios else 1.0
    centre = (low + high) / 2
    offset = np.array([width / 2, height / 2]) - centre * scale
    return ViewTransform(scale, (float(offset[0]), float(offset[1])))



def _edge_array(edges: Sequence[tuple[int, int]]) -> np.ndarray:
    """(E, 2) int64 edges; AvsError for a negative index."""
    edge_array = np.asarray(list(edges), dtype=np.int64).reshape(-1, 2) if len(edges) else np.zeros((0, 2), np.int64)
    if edge_array.size and edge_array.min() < 0:
        raise AvsError("skeleton edges must be pairs of non-negative keypoint indices")
    return edge_array


def _per_edge(values: Sequence | None, default: list, count: int, what: str) -> Sequence:
    """``values`` (or ``default``) after checking there is one per edge."""
    values = default if values is None else values
    if len(values) != count:
        raise AvsError(f"got {len(values)} {what} for {count} skeleton edges")
    return values


def _check_sizes(size: tuple[int, int], line_width: int, joint_radius: int, margin: float,
                 line_widths: Sequence[int]) -> tuple[int, int]:
    """``(height, width)`` after checking the frame size, line widths, joint radius and margin."""
    height, width = (int(s) for s in size)
    if height <= 0 or width <= 0:
        raise AvsError(f"frame size must be positive (height, width), got {size}")
    if line_width < 1 or joint_radius < 0:
        raise AvsError(f"line_width must be >= 1 and joint_radius >= 0, got {line_width}, {joint_radius}")
    if not 0 <= margin < 0.5:
        raise AvsError(f"margin must be in [0, 0.5), got {margin}")
    if any(int(w) < 1 for w in line_widths):
        raise AvsError("every line width must be >= 1 pixel")
    return height, width

class SkeletonRenderer:
    """Draws (T, K, 2) keypoint sequences as stick figures on a plain background.

    Satisfies :class:`avs.protocols.Renderer`. General: any number of keypoints and any
    edge list (e.g. the 49-joint Speech2Gesture upper body, or a 137-keypoint body + face +
    hands skeleton).

    Args:
        edges: (a, b) keypoint index pairs, one limb each.
        colors: RGB colour per edge (same length as ``edges``); default cycles
            :data:`DEFAULT_PALETTE`.
        size: (height, width) of the frames in pixels.
        line_width: limb thickness in pixels.
        joint_radius: radius of the joint dots in pixels (0: no dots). Only keypoints that
            belong to an edge get a dot.
        background: RGB background colour.
        margin: empty border as a fraction of the frame (see :func:`fit_view`).
        joint_color: RGB colour of the joint dots.
        line_widths: thickness in pixels of each edge (same length as ``edges``), e.g. a thick
            body, thinner fingers and a fine face; default ``line_width`` for every edge.

    Raises:
        AvsError: an edge is not a pair of non-negative indices, ``colors`` or ``line_widths``
            has the wrong length, or the sizes are not positive.
    """

    def __init__(
        self,
        edges: Sequence[tuple[int, int]],
        colors: Sequence[tuple[int, int, int]] | None = None,
        size: tuple[int, int] = (720, 1280),
        line_width: int = 4,
        joint_radius: int = 3,
        background: tuple[int, int, int] = (255, 255, 255),
        margin: float = 0.1,
        joint_color: tuple[int, int, int] = (60, 60, 60),
        line_widths: Sequence[int] | None = None,
    ) -> None:
        edge_array = _edge_array(edges)
        colors = _per_edge(colors, [DEFAULT_PALETTE[i % len(DEFAULT_PALETTE)] for i in range(len(edge_array))],
                           len(edge_array), "colours")
        line_widths = _per_edge(line_widths, [line_width] * len(edge_array), len(edge_array), "line widths")
        height, width = _check_sizes(size, line_width, joint_radius, margin, line_widths)
        self.edges = edge_array
        self.colors = [tuple(int(c) for c in color) for color in colors]
        self.size = (height, width)
        self.line_width = int(line_width)
        self.line_widths = [int(w) for w in line_widths]
        self.joint_radius = int(joint_radius)
        self.margin = float(margin)
        self.joint_color = tuple(int(c) for c in joint_color)
        self.joints = np.unique(edge_array) if edge_array.size else np.zeros(0, dtype=np.int64)
        self._background = np.empty((height, width, 3), dtype=np.uint8)
        self._background[:] = np.asarray(background, dtype=np.uint8)

    def fit(self, keypoints: np.ndarray) -> ViewTransform:
        """The view transform for a whole (T, K, 2) sequence (see :func:`fit_view`)."""
        return fit_view(keypoints, self.size, self.margin)

    def frames(self, motion: Motion, reuse_buffer: bool = False) -> Iterator[np.ndarray]:
        """Yield exactly ``motion.num_frames`` frames, each (H, W, 3) uint8 RGB.

        Args:
            motion: ``data`` is (T, K, 2) float keypoints (x, y) in pixels, y down; NaN
                keypoints are left out together with their limbs.
            reuse_buffer: yield the same array every time, redrawn in place (no per-frame
                allocation; for streaming straight into :func:`avs.video.write_video`).
                A consumer that keeps frames must then copy them.

        Raises:
            AvsError: ``data`` is not (T, K, 2) or an edge indexes a keypoint >= K.
        """
        data = self._check(motion.data)
        transform = self.fit(data)
        pixels = self._to_fixed_point(transform.apply(data))
        valid = np.isfinite(data).all(axis=-1)
        buffer = np.empty_like(self._background) if reuse_buffer else None
        for t in range(data.shape[0]):
            out = buffer if buffer is not None else np.empty_like(self._background)
            np.copyto(out, self._background)
            self._draw(out, pixels[t], valid[t])
            yield out

    def render_frame(self, keypoints: np.ndarray, transform: ViewTransform) -> np.ndarray:
        """Draw one (K, 2) pose (data units, mapped by ``transform``) → (H, W, 3) uint8 RGB."""
        data = self._check(np.asarray(keypoints, dtype=np.float32)[None])[0]
        out = self._background.copy()
        self._draw(out, self._to_fixed_point(transform.apply(data)), np.isfinite(data).all(axis=-1))
        return out

    def _check(self, data: np.ndarray) -> np.ndarray:
        data = np.asarray(data, dtype=np.float32)
        if data.ndim != 3 or data.shape[2] != 2:
            raise AvsError(f"skeleton rendering needs (T, K, 2) keypoints, got shape {data.shape}")
        if self.edges.size and self.edges.max() >= data.shape[1]:
            raise AvsError(
                f"skeleton edge uses keypoint {int(self.edges.max())} but the motion has only "
                f"{data.shape[1]} keypoints"
            )
        return data

    @staticmethod
    def _to_fixed_point(pixels: np.ndarray) -> np.ndarray:
        """Float pixels → int32 in 1/2**_SHIFT px units (NaN → 0; such points are skipped)."""
        scaled = np.nan_to_num(pixels * (1 << _SHIFT), nan=0.0, posinf=_LIMIT, neginf=-_LIMIT)
        return np.clip(np.rint(scaled), -_LIMIT, _LIMIT).astype(np.int32)

    def _draw(self, image: np.ndarray, points: np.ndarray, valid: np.ndarray) -> None:
        """Draw limbs then joints of one (K, 2) fixed-point pose into ``image`` in place."""
        pts = points.tolist()  # Python ints: much faster to hand to cv2 than numpy scalars
        ok = valid.tolist()
        for (a, b), color, width in zip(self.edges.tolist(), self.colors, self.line_widths, strict=True):
            if ok[a] and ok[b]:
                cv2.line(image, pts[a], pts[b], color, width, cv2.LINE_AA, _SHIFT)
        if self.joint_radius > 0:
            radius = self.joint_radius << _SHIFT
            for j in self.joints.tolist():
                if ok[j]:
                    cv2.circle(image, pts[j], radius, self.joint_color, -1, cv2.LINE_AA, _SHIFT)


def side_by_side(*streams: Iterable[np.ndarray], gap: int = 0) -> Iterator[np.ndarray]:
    """Join frame streams horizontally, frame by frame (e.g. ground truth | prediction).

    Args:
        streams: iterables of (H, W_i, 3) uint8 frames, all of the same height H.
        gap: white columns between panels, in pixels.

    Yields:
        (H, sum(W_i) + gap * (n - 1), 3) uint8 frames, as many as the shortest stream has.

    Raises:
        AvsError: the heights differ.
    """
    for panels in zip(*streams, strict=False):
        heights = {p.shape[0] for p in panels}
        if len(heights) != 1:
            raise AvsError(f"side_by_side needs panels of one height, got {sorted(heights)}")
        if gap > 0:
            spacer = np.full((panels[0].shape[0], gap, 3), 255, dtype=np.uint8)
            parts = [x for p in panels for x in (p, spacer)][:-1]
        else:
            parts = list(panels)
        yield np.concatenate(parts, axis=1)
