"""s2g's inference option ``infer.hand_prior``: fingers keep a hand's shape, the body is untouched."""

from __future__ import annotations

import numpy as np

from avs.api import load
from avs.metrics.skeleton import finger_crossing_rate
from avs_s2g import skeleton as sk
from avs_s2g.data import hand_priors
from avs_s2g.pipeline import apply_hand_prior

HANDS = [[sk.left_finger(f) for f in range(5)], [sk.right_finger(f) for f in range(5)]]
HAND_POINTS = sorted(set(sk.LEFT_HAND) | set(sk.RIGHT_HAND))
BODY = [k for k in range(sk.NUM_KEYPOINTS) if k not in HAND_POINTS]


def test_bundled_checkpoint_carries_a_hand_prior_and_it_untangles(speech):
    raw = load("s2g", overrides=["infer.hand_prior=false"]).predict(speech).data
    model = load("s2g")
    assert hand_priors(model.impl.stats) is not None
    shaped = model.predict(speech).data
    np.testing.assert_array_equal(shaped[:, BODY], raw[:, BODY])
    np.testing.assert_allclose(shaped[:, [sk.LEFT_HAND_ROOT, sk.RIGHT_HAND_ROOT]],
                               raw[:, [sk.LEFT_HAND_ROOT, sk.RIGHT_HAND_ROOT]], atol=1e-3)
    assert np.abs(shaped - raw).max() > 1.0
    assert finger_crossing_rate(shaped, HANDS) < finger_crossing_rate(raw, HANDS)


def test_statistics_without_a_prior_leave_keypoints_alone():
    keypoints = np.random.default_rng(0).normal(300, 50, (10, sk.NUM_KEYPOINTS, 2)).astype(np.float32)
    stats = {"mean": np.zeros(98, np.float32), "std": np.ones(98, np.float32), "neck": np.zeros(2, np.float32)}
    np.testing.assert_array_equal(apply_hand_prior(keypoints, stats, 3.0), keypoints)
