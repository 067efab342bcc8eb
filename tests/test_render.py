"""avs.render.skeleton: the shared 2-D stick-figure renderer."""

from __future__ import annotations

import numpy as np
import pytest

from avs.errors import AvsError
from avs.motion import Motion
from avs.protocols import Renderer
from avs.render import SkeletonRenderer, ViewTransform, fit_view, side_by_side

WHITE = (255, 255, 255)
# a small stick figure: 0 head, 1 neck, 2/3 elbows, 4/5 wrists, 6 hip
POSE = np.array([[0, -60], [0, -40], [-30, -20], [30, -20], [-40, 10], [40, 10], [0, 40]], np.float32)
EDGES = [(0, 1), (1, 2), (1, 3), (2, 4), (3, 5), (1, 6)]


def _motion(num_frames: int = 12, seed: int = 0) -> Motion:
    rng = np.random.default_rng(seed)
    data = POSE[None] * 3 + 500 + rng.normal(0, 4, (num_frames, *POSE.shape)).astype(np.float32)
    return Motion("keypoints-2d", data.astype(np.float32), fps=15.0)


def _non_background_near(frame: np.ndarray, xy: np.ndarray, radius: int = 3) -> bool:
    x, y = (int(round(v)) for v in xy)
    patch = frame[max(y - radius, 0) : y + radius + 1, max(x - radius, 0) : x + radius + 1]
    return bool((patch != WHITE).any())


def test_frames_count_shape_dtype_and_protocol():
    renderer = SkeletonRenderer(EDGES, size=(180, 320))
    assert isinstance(renderer, Renderer)
    assert renderer.size == (180, 320)
    frames = list(renderer.frames(_motion(12)))
    assert len(frames) == 12
    for frame in frames:
        assert frame.shape == (180, 320, 3) and frame.dtype == np.uint8
        assert (frame != WHITE).any(axis=-1).sum() > 200  # something was drawn
    assert not np.array_equal(frames[0], frames[1])  # the pose moves
    assert len({id(f) for f in frames}) == 12  # safe to keep: fresh arrays by default


def test_joints_and_limbs_land_where_the_transform_puts_them():
    renderer = SkeletonRenderer(EDGES, size=(180, 320), colors=[(200, 0, 0)] * len(EDGES))
    motion = _motion(5)
    transform = renderer.fit(motion.data)
    frame = next(renderer.frames(motion))
    pixels = transform.apply(motion.data[0])
    for joint in range(len(POSE)):
        assert _non_background_near(frame, pixels[joint])
    # the middle of a limb carries its colour
    mid = (pixels[1] + pixels[6]) / 2
    x, y = (int(round(v)) for v in mid)
    assert tuple(frame[y, x]) == (200, 0, 0)
    # far from the figure, the background is untouched
    assert tuple(frame[2, 2]) == WHITE and tuple(frame[-3, -3]) == WHITE


def test_view_fits_inside_the_margin_and_is_centred():
    size = (180, 320)
    motion = _motion(30)
    transform = fit_view(motion.data, size, margin=0.1)
    pixels = transform.apply(motion.data).reshape(-1, 2)
    lo, hi = np.percentile(pixels, 1, axis=0), np.percentile(pixels, 99, axis=0)
    assert lo[1] >= 0.1 * 180 - 1 and hi[1] <= 0.9 * 180 + 1  # tall figure: fills the height
    assert hi[1] - lo[1] == pytest.approx(0.8 * 180, abs=1)
    assert (lo[0] + hi[0]) / 2 == pytest.approx(160, abs=1)
    assert lo[0] > 0 and hi[0] < 320  # aspect preserved: not stretched to the width


def test_view_is_fixed_for_the_whole_sequence():
    """A joint that does not move stays on the same pixel however others move."""
    motion = _motion(20)
    motion.data[:, 6] = motion.data[0, 6]
    renderer = SkeletonRenderer(EDGES, size=(180, 320), joint_radius=0)
    transform = renderer.fit(motion.data)
    hip = transform.apply(motion.data[0, 6])
    for frame in renderer.frames(motion):
        assert _non_background_near(frame, hip, radius=1)


def test_still_sequence_renders():
    still = Motion("keypoints-2d", np.repeat(POSE[None] + 100, 8, axis=0), fps=15.0)
    frames = list(SkeletonRenderer(EDGES, size=(120, 160)).frames(still))
    assert len(frames) == 8
    assert all(np.array_equal(frames[0], f) for f in frames)
    assert (frames[0] != WHITE).any()


def test_zero_extent_falls_back_to_unit_scale():
    collapsed = Motion("keypoints-2d", np.full((4, 7, 2), 42.0, np.float32), fps=15.0)
    renderer = SkeletonRenderer(EDGES, size=(120, 160))
    transform = renderer.fit(collapsed.data)
    assert transform.scale == 1.0
    np.testing.assert_allclose(transform.apply(np.array([42.0, 42.0])), [80, 60])
    frame = next(renderer.frames(collapsed))
    assert _non_background_near(frame, np.array([80, 60]), radius=2)


def test_nan_keypoints_skip_their_edges():
    data = np.repeat(POSE[None] * 3 + 200, 3, axis=0)
    data[1, 5] = np.nan  # right wrist missing in frame 1: edge (3, 5) not drawn
    motion = Motion("keypoints-2d", data, fps=15.0)
    renderer = SkeletonRenderer(EDGES, size=(180, 320), joint_radius=0)
    transform = renderer.fit(data)
    frames = list(renderer.frames(motion))
    elbow, wrist = transform.apply(data[0, 3]), transform.apply(data[0, 5])
    forearm_mid = (elbow + wrist) / 2
    assert _non_background_near(frames[0], forearm_mid, radius=1)
    assert not _non_background_near(frames[1], forearm_mid, radius=1)
    # nothing drawn in frame 1 that frame 0 lacks (e.g. a limb to a NaN mapped to 0, 0)
    drawn = [(f != WHITE).any(axis=-1) for f in frames[:2]]
    assert not (drawn[1] & ~drawn[0]).any()
    assert _non_background_near(frames[1], transform.apply((data[0, 1] + data[0, 6]) / 2), radius=1)
    all_nan = Motion("keypoints-2d", np.full((2, 7, 2), np.nan, np.float32), fps=15.0)
    blank = list(renderer.frames(all_nan))
    assert len(blank) == 2 and (blank[0] == WHITE).all()


def test_reuse_buffer_yields_one_array():
    renderer = SkeletonRenderer(EDGES, size=(60, 80))
    fresh = [f.copy() for f in renderer.frames(_motion(4))]
    reused = []
    for frame in renderer.frames(_motion(4), reuse_buffer=True):
        reused.append(frame)
        np.testing.assert_array_equal(frame, fresh[len(reused) - 1])
    assert len({id(f) for f in reused}) == 1


def test_render_frame_matches_frames():
    renderer = SkeletonRenderer(EDGES, size=(90, 160))
    motion = _motion(3)
    transform = renderer.fit(motion.data)
    np.testing.assert_array_equal(renderer.render_frame(motion.data[2], transform),
                                  list(renderer.frames(motion))[2])
    assert isinstance(transform, ViewTransform)


def test_any_skeleton_size():
    k = 137
    edges = [(i, i + 1) for i in range(k - 1)]
    rng = np.random.default_rng(3)
    motion = Motion("keypoints-2d", rng.uniform(0, 500, (3, k, 2)).astype(np.float32), fps=25.0)
    frames = list(SkeletonRenderer(edges, size=(72, 128)).frames(motion))
    assert len(frames) == 3 and frames[0].shape == (72, 128, 3)


def test_errors():
    with pytest.raises(AvsError, match="keypoint 6"):
        list(SkeletonRenderer(EDGES).frames(Motion("keypoints-2d", np.zeros((2, 5, 2), np.float32), 15)))
    with pytest.raises(AvsError, match=r"\(T, K, 2\)"):
        list(SkeletonRenderer(EDGES).frames(Motion("blendshapes", np.zeros((2, 52), np.float32), 15)))
    with pytest.raises(AvsError, match="colours"):
        SkeletonRenderer(EDGES, colors=[(0, 0, 0)])
    with pytest.raises(AvsError):
        SkeletonRenderer([(0, -1)])
    with pytest.raises(AvsError):
        SkeletonRenderer(EDGES, margin=0.5)


def test_side_by_side():
    a = [np.zeros((10, 4, 3), np.uint8)] * 3
    b = [np.full((10, 6, 3), 7, np.uint8)] * 2
    out = list(side_by_side(a, b, gap=2))
    assert len(out) == 2 and out[0].shape == (10, 12, 3)
    assert (out[0][:, 4:6] == 255).all() and (out[0][:, 6:] == 7).all()
    with pytest.raises(AvsError, match="height"):
        list(side_by_side(a, [np.zeros((9, 4, 3), np.uint8)]))
