"""avs.hand_prior: PCA hand-shape prior in a canonical hand frame."""

from __future__ import annotations

import numpy as np
import pytest

from avs.errors import AvsError
from avs.hand_prior import fit_hand_prior, project_hands
from avs.kinematics import hand_points
from avs.metrics.skeleton import finger_crossing_rate

FINGERS = [[0, *range(1 + 4 * f, 5 + 4 * f)] for f in range(5)]


def kinematic_hands(n: int, seed: int = 0) -> np.ndarray:
    """(n, 21, 2) hands of the kinematic model (random curl, spread, pronation), pointing down, at the origin."""
    rng = np.random.default_rng(seed)
    curl, spread = rng.uniform(0.0, 1.0, n), rng.uniform(0.0, 1.0, n)
    pronation = rng.uniform(-40.0, 40.0, n)
    return hand_points(np.zeros((n, 2)), np.zeros(n), pronation, curl, spread, 1, 100.0)


def rotate(hands: np.ndarray, angle: float, scale: float, shift: np.ndarray) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return scale * hands @ np.array([[c, -s], [s, c]]).T + shift


def test_clean_training_hands_are_reproduced():
    hands = kinematic_hands(400)
    every = fit_hand_prior(hands, variance=1.0, max_components=40)
    np.testing.assert_allclose(project_hands(hands[:50], every, clip=np.inf), hands[:50], atol=1e-3)
    prior = fit_hand_prior(hands, variance=0.999)
    assert np.abs(project_hands(hands[:50], prior, clip=np.inf) - hands[:50]).mean() < 0.2  # px, 100 px hand


def test_projection_removes_noise_and_tangles():
    hands = kinematic_hands(400)
    prior = fit_hand_prior(hands, variance=0.99)
    rng = np.random.default_rng(1)
    clean = kinematic_hands(100, seed=2)
    noisy = clean + rng.normal(0, 8.0, clean.shape)
    noisy[:, 0] = clean[:, 0]
    out = project_hands(noisy, prior)
    assert np.abs(out - clean).mean() < 0.6 * np.abs(noisy - clean).mean()
    assert finger_crossing_rate(out[None], [FINGERS]) < finger_crossing_rate(noisy[None], [FINGERS])
    np.testing.assert_allclose(out[:, 0], noisy[:, 0], atol=1e-4)  # the wrist stays the network's


def test_projection_follows_hand_position_direction_and_size():
    hands = kinematic_hands(300)
    prior = fit_hand_prior(hands, variance=0.99)
    noisy = kinematic_hands(20, seed=3) + np.random.default_rng(4).normal(0, 5.0, (20, 21, 2))
    moved = rotate(noisy, 1.1, 0.6, np.array([320.0, 40.0]))
    np.testing.assert_allclose(project_hands(moved, prior), rotate(project_hands(noisy, prior), 1.1, 0.6,
                                                                   np.array([320.0, 40.0])), atol=1e-2)


def test_clipping_bounds_the_coefficients():
    hands = kinematic_hands(300)
    prior = fit_hand_prior(hands, variance=0.99)
    wild = kinematic_hands(5, seed=5)
    wild[:, 1:] *= np.array([4.0, 0.3])  # far outside the training shapes
    loose, tight = project_hands(wild, prior, clip=np.inf), project_hands(wild, prior, clip=1.0)
    ref = project_hands(kinematic_hands(1, seed=6), prior)
    assert np.abs(tight - ref).mean() < np.abs(loose - ref).mean()


def test_fewer_components_for_less_variance():
    hands = kinematic_hands(300)
    assert len(fit_hand_prior(hands, 0.5)["scale"]) < len(fit_hand_prior(hands, 0.999)["scale"])


@pytest.mark.parametrize("bad", [np.zeros((5, 20, 2)), np.zeros((5, 21)), np.full((3, 21, 2), np.nan)])
def test_bad_training_hands(bad):
    with pytest.raises(AvsError):
        fit_hand_prior(bad)


def test_bad_prior_shapes():
    prior = fit_hand_prior(kinematic_hands(50))
    with pytest.raises(AvsError, match="wrong shapes"):
        project_hands(kinematic_hands(2), {**prior, "mean": prior["mean"][:10]})
