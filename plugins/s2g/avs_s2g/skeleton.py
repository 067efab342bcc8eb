"""The speech2gesture 49-keypoint upper-body skeleton.

OpenPose body arms plus two 21-point hands, as laid out in speech2gesture ``common/consts.py``
(``BASE_KEYPOINT``, ``RIGHT_BODY_KEYPOINTS``, ``LEFT_BODY_KEYPOINTS``, ``*_HAND_KEYPOINTS``):

- 0 neck;
- 1, 2, 3 right shoulder, elbow, wrist; 4, 5, 6 left shoulder, elbow, wrist;
- 7 left-hand root, 8–27 left fingers: finger ``f`` (0 thumb … 4 little) is the chain
  ``[7, 8+4f, 9+4f, 10+4f, 11+4f]``;
- 28 right-hand root, 29–48 right fingers: chain ``[28, 29+4f, …, 32+4f]``.

"Right" and "left" are the person's (OpenPose's convention): the right arm appears on the
image's left. A flat pose vector of 98 numbers stores ``[x0..x48, y0..y48]`` in pixels of the
source video (image coordinates, y down).
"""

from __future__ import annotations

from typing import Any

NUM_KEYPOINTS = 49
"""Keypoints per frame."""

POSE_DIM = 2 * NUM_KEYPOINTS
"""Length of a flat pose vector ``[x0..x48, y0..y48]``."""

NECK = 0
RIGHT_ARM = (1, 2, 3)
"""Right shoulder, elbow, wrist."""
LEFT_ARM = (4, 5, 6)
"""Left shoulder, elbow, wrist."""
LEFT_HAND_ROOT = 7
RIGHT_HAND_ROOT = 28
FINGER_NAMES = ("thumb", "index", "middle", "ring", "little")


LEFT_HAND = (LEFT_HAND_ROOT, *range(8, 28))
"""The left hand's 21 keypoints in OpenPose hand order (root, then thumb … little, knuckle to tip)."""
RIGHT_HAND = (RIGHT_HAND_ROOT, *range(29, 49))
"""The right hand's 21 keypoints in OpenPose hand order."""
HANDS = {"left": LEFT_HAND, "right": RIGHT_HAND}


def left_finger(f: int) -> tuple[int, ...]:
    """Keypoint chain of left finger ``f`` (0 thumb … 4 little): hand root then 4 joints to the tip."""
    return (LEFT_HAND_ROOT, *range(8 + 4 * f, 12 + 4 * f))


def right_finger(f: int) -> tuple[int, ...]:
    """Keypoint chain of right finger ``f`` (0 thumb … 4 little): hand root then 4 joints to the tip."""
    return (RIGHT_HAND_ROOT, *range(29 + 4 * f, 33 + 4 * f))


NON_NECK = tuple(range(1, NUM_KEYPOINTS))
"""The 48 keypoints that are trained and evaluated (the neck is the origin of the normalised pose)."""

NON_NECK_FLAT = tuple(NON_NECK) + tuple(NUM_KEYPOINTS + k for k in NON_NECK)
"""Indices of the 48 non-neck keypoints in a flat 98-vector: their 48 x then their 48 y (96 values)."""

KEYPOINT_NAMES: tuple[str, ...] = (
    "neck",
    "right_shoulder", "right_elbow", "right_wrist",
    "left_shoulder", "left_elbow", "left_wrist",
    "left_hand_root",
    *(f"left_{name}_{j}" for name in FINGER_NAMES for j in range(1, 5)),
    "right_hand_root",
    *(f"right_{name}_{j}" for name in FINGER_NAMES for j in range(1, 5)),
)
"""Name of every keypoint, by index (finger joints numbered 1 at the knuckle … 4 at the tip)."""


def _chain(points: tuple[int, ...]) -> list[tuple[int, int]]:
    return list(zip(points[:-1], points[1:], strict=True))


RIGHT_BODY_EDGES = _chain((NECK, *RIGHT_ARM, RIGHT_HAND_ROOT))
"""neck–right shoulder–elbow–wrist–right-hand root."""
LEFT_BODY_EDGES = _chain((NECK, *LEFT_ARM, LEFT_HAND_ROOT))
"""neck–left shoulder–elbow–wrist–left-hand root."""
RIGHT_HAND_EDGES = [e for f in range(5) for e in _chain(right_finger(f))]
LEFT_HAND_EDGES = [e for f in range(5) for e in _chain(left_finger(f))]

EDGES: tuple[tuple[int, int], ...] = tuple(
    RIGHT_BODY_EDGES + LEFT_BODY_EDGES + RIGHT_HAND_EDGES + LEFT_HAND_EDGES
)
"""The 48 bones as (parent, child) keypoint index pairs."""

RIGHT_BODY_COLOR = (220, 70, 50)
LEFT_BODY_COLOR = (50, 100, 220)
RIGHT_HAND_COLOR = (245, 150, 130)
LEFT_HAND_COLOR = (130, 170, 245)

EDGE_COLORS: tuple[tuple[int, int, int], ...] = tuple(
    [RIGHT_BODY_COLOR] * len(RIGHT_BODY_EDGES)
    + [LEFT_BODY_COLOR] * len(LEFT_BODY_EDGES)
    + [RIGHT_HAND_COLOR] * len(RIGHT_HAND_EDGES)
    + [LEFT_HAND_COLOR] * len(LEFT_HAND_EDGES)
)
"""RGB colour of each edge of :data:`EDGES`: the person's right side red, left side blue, fingers lighter."""


def flat_to_keypoints(pose: Any) -> Any:
    """Flat poses ``(..., 98)`` ``[x0..x48, y0..y48]`` → keypoints ``(..., 49, 2)`` (x, y).

    Works for numpy arrays and torch tensors (returns a view where possible).

    Raises:
        ValueError: if the last dimension is not 98.
    """
    if pose.shape[-1] != POSE_DIM:
        raise ValueError(f"expected poses of shape (..., {POSE_DIM}), got {tuple(pose.shape)}")
    return pose.reshape(*pose.shape[:-1], 2, NUM_KEYPOINTS).swapaxes(-1, -2)


def keypoints_to_flat(keypoints: Any) -> Any:
    """Keypoints ``(..., 49, 2)`` → flat poses ``(..., 98)`` ``[x0..x48, y0..y48]``; inverse of
    :func:`flat_to_keypoints`.

    Raises:
        ValueError: if the last two dimensions are not (49, 2).
    """
    if tuple(keypoints.shape[-2:]) != (NUM_KEYPOINTS, 2):
        raise ValueError(
            f"expected keypoints of shape (..., {NUM_KEYPOINTS}, 2), got {tuple(keypoints.shape)}"
        )
    return keypoints.swapaxes(-1, -2).reshape(*keypoints.shape[:-2], POSE_DIM)
