"""The kinematic upper body of the synthetic sets, and the skeleton plausibility metrics."""

from __future__ import annotations

import numpy as np
import pytest

from avs.errors import AvsError
from avs.kinematics import JOINT_LIMITS, BodyProportions, JointAngles, hand_points, upper_body
from avs.metrics.skeleton import bone_length_variation, finger_crossing_rate, segments_cross

# OpenPose hand: 0 wrist, finger f = (0, 1+4f, 2+4f, 3+4f, 4+4f)
FINGERS = [(0, *range(1 + 4 * f, 5 + 4 * f)) for f in range(5)]
HAND_EDGES = [(a, b) for c in FINGERS for a, b in zip(c[:-1], c[1:], strict=True)]


def _random_angles(rng: np.random.Generator, t: int) -> JointAngles:
    return JointAngles(**{name: rng.uniform(lo - 10, hi + 10, t) for name, (lo, hi) in JOINT_LIMITS.items()})


def test_arm_bones_keep_their_length_and_proportions() -> None:
    rng = np.random.default_rng(0)
    t = 200
    props = BodyProportions.from_shoulder_width(300.0)
    body = upper_body(np.tile([[640.0, 200.0]], (t, 1)), props, _random_angles(rng, t), _random_angles(rng, t))
    for side in ("right", "left"):
        upper = np.linalg.norm(getattr(body, f"{side}_elbow") - getattr(body, f"{side}_shoulder"), axis=-1)
        fore = np.linalg.norm(getattr(body, f"{side}_wrist") - getattr(body, f"{side}_elbow"), axis=-1)
        np.testing.assert_allclose(upper, props.upper_arm, rtol=1e-9)
        np.testing.assert_allclose(fore, props.forearm, rtol=1e-9)
    # Drillis & Contini: upper arm 0.186 H and forearm 0.146 H for 0.259 H of shoulders
    assert props.upper_arm / (2 * props.shoulder_half) == pytest.approx(0.186 / 0.259)
    # the right arm is on the image's left
    assert (body.right_shoulder[:, 0] < 640).all() and (body.left_shoulder[:, 0] > 640).all()


def test_rest_pose_hangs_down_and_angles_are_clipped() -> None:
    props = BodyProportions.from_height(1000.0)
    neck = np.array([[500.0, 100.0]])
    body = upper_body(neck, props, JointAngles(), JointAngles())
    assert body.right_wrist[0, 1] > body.right_elbow[0, 1] > body.right_shoulder[0, 1] > 100
    # an elbow flexed past its 150° limit lands where 150° does
    bent = upper_body(neck, props, JointAngles(elbow_flexion=400.0), JointAngles())
    limit = upper_body(neck, props, JointAngles(elbow_flexion=150.0), JointAngles())
    np.testing.assert_allclose(bent.right_wrist, limit.right_wrist)


def test_fingers_never_cross_over_their_whole_range() -> None:
    t = 11 ** 3
    curl, spread, pron = (g.ravel() for g in np.meshgrid(np.linspace(0, 1, 11), np.linspace(0, 1, 11),
                                                          np.linspace(*JOINT_LIMITS["pronation"], 11)))
    for side in (1.0, -1.0):
        hand = hand_points(np.zeros((t, 2)), np.linspace(-180, 180, t), pron, curl, spread, side, 100.0)
        assert finger_crossing_rate(hand, [FINGERS]) == 0.0
    # open and flat: the middle finger is the hand's length
    flat = hand_points(np.zeros((1, 2)), np.zeros(1), np.zeros(1), np.zeros(1), np.zeros(1), 1.0, 100.0)
    assert np.linalg.norm(flat[0, 12]) == pytest.approx(100.0, rel=0.03)


def test_bone_length_variation() -> None:
    rng = np.random.default_rng(1)
    t = 50
    angle = rng.uniform(0, 2 * np.pi, t)
    rigid = np.stack([np.zeros((t, 2)), 10 * np.stack([np.cos(angle), np.sin(angle)], -1)], axis=1)
    assert bone_length_variation(rigid, [(0, 1)]) == pytest.approx(0.0, abs=1e-12)
    stretchy = rigid * np.linspace(0.5, 1.5, t)[:, None, None]
    lengths = np.linspace(5, 15, t)
    assert bone_length_variation(stretchy, [(0, 1)]) == pytest.approx(lengths.std() / lengths.mean())
    # a degenerate bone (two points that coincide) is skipped, not divided by ~0
    with_root = np.concatenate([rigid, rigid[:, 1:2] + 1e-9 * rng.normal(size=(t, 1, 2))], axis=1)
    assert bone_length_variation(with_root, [(0, 1), (1, 2)]) == pytest.approx(0.0, abs=1e-12)
    # unknown keypoints (NaN) are left out of their bones' statistics, not spread as NaN
    gappy = stretchy.copy()
    gappy[::2, 1] = np.nan
    assert bone_length_variation(gappy, [(0, 1)]) == pytest.approx(lengths[1::2].std() / lengths[1::2].mean())
    with_unknown = np.concatenate([stretchy, np.full((t, 1, 2), np.nan)], axis=1)
    assert bone_length_variation(with_unknown, [(0, 1), (1, 2)]) == pytest.approx(lengths.std() / lengths.mean())
    with pytest.raises(AvsError):
        bone_length_variation(rigid, [(0, 5)])
    with pytest.raises(AvsError):
        bone_length_variation(rigid[:1], [(0, 1)])


def test_segments_cross_and_crossing_rate() -> None:
    p = np.array
    assert segments_cross(p([0, 0]), p([2, 2]), p([0, 2]), p([2, 0]))
    assert not segments_cross(p([0, 0]), p([1, 1]), p([1, 1]), p([2, 0]))  # touching at an end
    assert not segments_cross(p([0, 0]), p([1, 0]), p([0, 1]), p([1, 1]))  # parallel
    # two fingers from one root: frame 0 apart, frame 1 crossed
    apart = [[0, 0], [-1, 1], [-1, 2], [1, 1], [1, 2]]
    crossed = [[0, 0], [-1, 1], [1, 2], [1, 1], [-1, 2]]
    kp = np.array([apart, crossed], dtype=float)
    assert finger_crossing_rate(kp, [[(0, 1, 2), (0, 3, 4)]]) == 0.5
    # a finger folding over itself (segments 0-1 and 2-3 cross)
    zigzag = np.array([[[0, 0], [0, 2], [1, 1], [-1, 1]]], dtype=float)
    assert finger_crossing_rate(zigzag, [[(0, 1, 2, 3)]]) == 1.0
    with pytest.raises(AvsError):
        finger_crossing_rate(kp, [[(0, 9)]])
