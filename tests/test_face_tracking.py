"""Tracking and pose on an affine-animated photo with known motion; crops; embeddings; smoothing."""

from __future__ import annotations

import numpy as np
import pytest

from avs.errors import AvsError
from avs.face.crop import aligned_crop, square_box
from avs.face.smoothing import fill_short_gaps, landmark_jitter, smooth_landmarks, valid_runs
from face_helpers import affine_frames, astronaut, requires_face


@requires_face
def test_pose_of_an_affine_animated_photo_is_recovered():
    """Roll within 1.5°, pitch/yaw steady within ±2.5°, scale within 3 %, face centre within 2 px."""
    from avs.face.model import mean_shape, rigid_fit
    from avs.face.tracking import FaceTracker, track_image

    img = astronaut()
    first = track_image(img)
    assert first is not None and first.num_faces == 1
    centre = tuple(float(v) for v in (first.box[:2] + first.box[2:]) / 2)
    T = 12
    t = np.arange(T)
    angles = 12 * np.sin(2 * np.pi * t / T)  # degrees, counter-clockwise on screen
    shifts = np.stack([15 * np.sin(4 * np.pi * t / T), 10 * np.cos(2 * np.pi * t / T)], 1)
    scales = 1 + 0.08 * np.sin(2 * np.pi * t / T)
    frames, affines = affine_frames(img, angles, shifts, scales, centre)
    with FaceTracker() as tracker:
        tracks = [tracker(f) for f in frames]
    assert all(tr is not None for tr in tracks)
    lm = np.stack([tr.lm478 for tr in tracks])
    euler, trans, _ = rigid_fit(lm, np.ones(T, bool), mean_shape(lm))
    # counter-clockwise on screen is a negative roll about z (x right, y down, z into the screen)
    roll = np.degrees(euler[:, 2] - euler[0, 2])
    np.testing.assert_allclose(roll, -(angles - angles[0]), atol=1.5)
    for k in (0, 1):
        assert np.ptp(np.degrees(euler[:, k])) < 5.0
    np.testing.assert_allclose(trans[:, 2] / trans[0, 2], scales / scales[0], rtol=0.03)
    A0 = np.vstack([affines[0], [0, 0, 1]])
    c_orig = np.linalg.solve(A0, [*trans[0, :2], 1.0])
    expected = np.stack([a @ c_orig for a in affines])
    np.testing.assert_allclose(trans[:, :2], expected, atol=2.0)
    # the 68 points follow the motion too: the nose tip moves like the mesh's
    nose68 = np.stack([tr.lm68[30] for tr in tracks])
    nose478 = lm[:, 1, :2]
    assert np.abs((nose68 - nose68[0]) - (nose478 - nose478[0])).max() < 4.0


@requires_face
def test_no_face_gives_none_and_bad_images_raise():
    from avs.face.tracking import track_image

    assert track_image(np.full((200, 200, 3), 127, np.uint8)) is None
    with pytest.raises(AvsError):
        track_image(np.zeros((200, 200), np.uint8))


@requires_face
def test_embedding_same_person_closer_than_other_image():
    from avs.face.embedding import face_embedding
    from avs.face.tracking import track_image

    img = astronaut()
    tr = track_image(img)
    e1 = face_embedding(img, tr.lm68)
    assert e1.shape == (128,) and abs(np.linalg.norm(e1) - 1) < 1e-5
    flipped = np.ascontiguousarray(img[:, ::-1])
    e2 = face_embedding(flipped, track_image(flipped).lm68)
    assert float(e1 @ e2) > 0.9  # the mirror image is the same person for dlib
    e3 = face_embedding(img, tr.lm478)  # from the mesh
    assert float(e1 @ e3) > 0.95
    with pytest.raises(AvsError):
        face_embedding(img, np.full((68, 2), np.nan))


def test_aligned_crop_keeps_aspect_and_pads():
    img = np.zeros((100, 200, 3), np.uint8)
    img[20:60, 50:130] = 200  # an 80×40 box
    crop, affine = aligned_crop(img, np.array([50, 20, 130, 60]), 64)
    assert crop.shape == (64, 64, 3) and crop.dtype == np.uint8
    # 80 wide → 64 wide, 40 tall → 32 tall, centred: rows 16..47 filled, the rest zero padding
    assert (crop[:15] == 0).all() and (crop[49:] == 0).all()
    assert (crop[20:44, 4:60] == 200).all()
    np.testing.assert_allclose(affine @ [90, 40, 1], [32, 32])
    sq = square_box(np.array([50, 20, 130, 60]), margin=0.1)
    np.testing.assert_allclose(sq, [42, -8, 138, 88])
    with pytest.raises(AvsError):
        aligned_crop(img, np.array([5, 5, 5, 9]), 64)


def test_smoothing_runs_gaps_and_jitter():
    rng = np.random.default_rng(0)
    T = 60
    clean = np.stack([np.linspace(0, 30, T), np.sin(np.linspace(0, 3, T)) * 10], 1)[:, None, :].repeat(4, 1)
    noisy = (clean + rng.normal(0, 0.8, clean.shape)).astype(np.float32)
    valid = np.ones(T, bool)
    valid[20:22] = False  # short gap: filled
    valid[40:50] = False  # long gap: left missing
    filled_x, filled = fill_short_gaps(noisy, valid)
    assert filled[20:22].all() and not filled[40:50].any()
    v = valid | filled
    assert valid_runs(v) == [(0, 40), (50, 60)]
    smooth = smooth_landmarks(filled_x, v)
    ok = v.copy()
    assert np.abs(smooth[ok] - clean[ok]).mean() < np.abs(noisy[ok] - clean[ok]).mean()
    assert landmark_jitter(smooth, v) < 0.6 * landmark_jitter(noisy, v)
    np.testing.assert_array_equal(smooth[45], noisy[45])  # never invented inside a long gap
