"""The 137 → 121 reduction, the hierarchical form, normalisation, and the drawing's skeleton."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from avs_sdt import keypoints as K


def _pixels(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.uniform(0, 1280, shape) + rng.normal(0, 1e-3, shape)).astype(np.float32)


def test_the_121_layout_follows_the_reference():
    assert len(K.KEPT_137) == 121 and K.NUM_KEYPOINTS == 121
    assert K.KEPT_137[:9] == (0, 2, 3, 4, 5, 6, 7, 15, 16)  # nose, right arm, left arm, eyes
    assert K.KEPT_137[9] == 25 and K.KEPT_137[78] == 94  # face
    assert K.KEPT_137[79] == 95 and K.KEPT_137[100] == 116 and K.KEPT_137[120] == 136  # hands
    assert set(K.DROPPED_137) == set(range(8, 15)) | set(range(17, 25))
    assert K.FACE_ROOT == 9 + 30 and K.UPPER_LIP == 71 and K.LOWER_LIP == 75
    assert (K.LEFT_HAND_ROOT, K.RIGHT_HAND_ROOT) == (6, 3)


def test_reduction_and_inverse_round_trip_exactly():
    pose = _pixels((3, 64, 137, 2))
    rel, neck = K.reduce_to_121(pose)
    assert rel.shape == (3, 64, 121, 2) and neck.shape == (3, 64, 2)
    np.testing.assert_array_equal(neck, pose[..., 1, :])
    np.testing.assert_array_equal(rel[..., 0, :], pose[..., 0, :].astype(np.float64) - pose[..., 1, :])
    back = K.expand_to_137(rel, neck)
    kept = [1, *K.KEPT_137]
    assert np.array_equal(back[..., kept, :].astype(np.float32), pose[..., kept, :])  # bit for bit
    assert np.isnan(back[..., list(K.DROPPED_137), :]).all()
    rel2, neck2 = K.reduce_to_121(back)  # and the other way round
    assert np.array_equal(rel2, rel) and np.array_equal(neck2, neck)


def test_reduction_rejects_other_layouts():
    with pytest.raises(ValueError, match="137"):
        K.reduce_to_121(np.zeros((64, 121, 2)))
    with pytest.raises(ValueError, match="121"):
        K.expand_to_137(np.zeros((64, 137, 2)))


def test_parted_form_is_relative_to_the_roots_and_inverts_exactly():
    rel, _ = K.reduce_to_121(_pixels((5, 137, 2), seed=1))
    parted = K.to_parted(rel)
    np.testing.assert_array_equal(parted[:, 50], rel[:, 50] - rel[:, 39])  # a face point vs the nose tip
    np.testing.assert_array_equal(parted[:, 85], rel[:, 85] - rel[:, 6])  # left hand vs left wrist
    np.testing.assert_array_equal(parted[:, 110], rel[:, 110] - rel[:, 3])  # right hand vs right wrist
    np.testing.assert_array_equal(parted[:, :9], rel[:, :9])  # body unchanged
    np.testing.assert_array_equal(parted[:, 39], rel[:, 39])  # the face root stays neck-relative
    assert np.array_equal(K.to_global(parted), rel)
    assert K.parent_in_parted(39) is None and K.parent_in_parted(40) == 39 and K.parent_in_parted(100) == 3


def test_torch_and_numpy_agree():
    rel, _ = K.reduce_to_121(_pixels((2, 4, 137, 2), seed=2))
    t = torch.from_numpy(rel)
    np.testing.assert_array_equal(K.to_parted(t).numpy(), K.to_parted(rel))
    flat = K.keypoints_to_flat(rel)
    assert flat.shape == (2, 4, 242)
    np.testing.assert_array_equal(flat[..., :121], rel[..., 0])  # [x0..x120, y0..y120]
    np.testing.assert_array_equal(flat[..., 121:], rel[..., 1])
    np.testing.assert_array_equal(K.flat_to_keypoints(flat), rel)
    np.testing.assert_array_equal(K.flat_to_keypoints(torch.from_numpy(flat)).numpy(), rel)


@pytest.mark.parametrize("hierarchical", [True, False])
def test_normalisation_inverts(hierarchical: bool):
    rel, _ = K.reduce_to_121(_pixels((64, 137, 2), seed=3))
    rng = np.random.default_rng(4)
    mean, std = rng.normal(0, 50, 242), rng.uniform(5, 60, 242)
    flat = K.normalise(rel, mean, std, 1.7, hierarchical)
    assert flat.shape == (64, 242)
    np.testing.assert_allclose(K.denormalise(flat, mean, std, 1.7, hierarchical), rel, rtol=0, atol=1e-9)


def test_drawing_skeleton_covers_body_face_and_fingers():
    edges, colors, widths = K.skeleton_137()
    assert len(edges) == len(colors) == len(widths)
    points = {p for e in edges for p in e}
    assert set(range(25, 93)) <= points and set(range(95, 137)) <= points  # 68 landmarks, both hands
    finger_colours = {colors[edges.index(K.finger_edges(116, f)[0])] for f in range(5)}
    assert len(finger_colours) == 5  # a colour per finger
    assert (62 + 25, 63 + 25) in edges and (67 + 25, 60 + 25) in edges  # the inner lip loop


# The OpenPose BODY_25 limbs written out here from OpenPose's documentation (output format, BODY_25 figure):
# neck-nose, nose-eyes-ears, shoulders-arms, neck-midhip, hips-legs, ankles-feet.
OPENPOSE_BODY_25 = {
    (1, 0), (0, 15), (15, 17), (0, 16), (16, 18),
    (1, 2), (2, 3), (3, 4), (1, 5), (5, 6), (6, 7),
    (1, 8), (8, 9), (9, 10), (10, 11), (8, 12), (12, 13), (13, 14),
    (11, 22), (22, 23), (11, 24), (14, 19), (19, 20), (14, 21),
}


def test_drawing_has_every_body_25_limb():
    edges, _, _ = K.skeleton_137()
    body = {tuple(sorted(e)) for e in edges if max(e) < 25}
    assert body == {tuple(sorted(e)) for e in OPENPOSE_BODY_25}
    assert (1, 0) in edges or (0, 1) in edges  # neck -> nose: the head sits on the shoulders


def test_rendered_neck_to_nose_line_is_drawn():
    from types import SimpleNamespace

    from avs_sdt.render import build_renderer

    pose = np.full((137, 2), np.nan)
    pose[K.NECK_137] = (640.0, 400.0)
    pose[0] = (640.0, 200.0)  # nose straight above the neck
    pose[2], pose[5] = (540.0, 400.0), (740.0, 400.0)  # shoulders
    cfg = SimpleNamespace(render=SimpleNamespace(height=720, width=1280, margin=0.08))
    renderer = build_renderer(cfg)
    frame = renderer.render_frame(pose, renderer.fit(pose[None]))
    # the view maps the figure into the frame; the midpoint of neck and nose must be painted (not white)
    view = renderer.fit(pose[None])
    mid = view.apply(np.array([[640.0, 300.0]]))[0]
    x, y = int(round(mid[0])), int(round(mid[1]))
    assert frame[y - 2 : y + 3, x - 2 : x + 3].min() < 200
