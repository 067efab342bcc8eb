"""The SDT keypoint layouts: OpenPose's 137 points, the model's 121, and the hierarchical form.

Facts from SpeechDrivesTemplates ``pose_definition.md`` and ``core/datasets/gesture_dataset.py``:

- **137** (what the ``.npz`` files hold): OpenPose BODY_25 (0–24), face 70 (25–94: the 68
  landmarks and two pupils), left hand 21 (95–115), right hand 21 (116–136).
- **121** (what the model predicts): keep body 0–7 and the eyes 15, 16 plus every face and hand
  point (122), subtract the neck (#1) and drop it. In order: 0 nose, 1–3 right
  shoulder/elbow/wrist, 4–6 left shoulder/elbow/wrist, 7–8 eyes, 9–78 face, 79–99 left hand,
  100–120 right hand.
- **hierarchical** ("parted"): face points relative to the nose tip (face #30 = 39), left-hand
  points relative to the left wrist (6), right-hand points to the right wrist (3).

"Right" and "left" are the person's (OpenPose's convention). A flat pose vector of 242 numbers
is ``[x0..x120, y0..y120]`` (the reference's ``(2, 121)`` reshaped), so channel ``c`` of the
generator's last convolution is coordinate ``c // 121`` of keypoint ``c % 121``.

The reduction and its inverse are computed in float64: for float32 pixel input (any realistic
image coordinates) every difference and sum is exact, so ``expand_to_137(*reduce_to_121(p))``
returns the kept keypoints of ``p`` bit for bit, and so do ``to_global(to_parted(x))``.
Functions that take ``Any`` accept numpy arrays and torch tensors alike.
"""

from __future__ import annotations

from typing import Any

import numpy as np

NUM_OPENPOSE = 137
"""Keypoints per frame in the data files."""
NUM_KEYPOINTS = 121
"""Keypoints per frame the model predicts (neck-relative, neck dropped)."""
POSE_DIM = 2 * NUM_KEYPOINTS
"""Length of a flat pose vector ``[x0..x120, y0..y120]``."""

NECK_137 = 1
"""The root: BODY_25 neck."""
KEPT_137: tuple[int, ...] = (0, *range(2, 8), 15, 16, *range(25, 137))
"""The 137-layout index of each of the 121 keypoints, in order."""
DROPPED_137: tuple[int, ...] = tuple(sorted(set(range(NUM_OPENPOSE)) - set(KEPT_137) - {NECK_137}))
"""Legs, hips, ears and feet (8–14, 17–24): not modelled; NaN when expanded back to 137."""

# Groups in the 121 layout
NOSE, R_SHOULDER, R_ELBOW, R_WRIST, L_SHOULDER, L_ELBOW, L_WRIST, R_EYE, L_EYE = range(9)
FACE = tuple(range(9, 79))
"""The 70 face points (face #f is keypoint 9 + f)."""
LEFT_HAND = tuple(range(79, 100))
RIGHT_HAND = tuple(range(100, 121))
FACE_ROOT = 39
"""Face #30, the nose tip: root of the face in hierarchical mode."""
LEFT_HAND_ROOT = L_WRIST
RIGHT_HAND_ROOT = R_WRIST
UPPER_LIP = 9 + 62
"""Face #62 (inner upper lip, middle) = keypoint 71: the lip-sync error's upper point."""
LOWER_LIP = 9 + 66
"""Face #66 (inner lower lip, middle) = keypoint 75."""

_FACE_CHILDREN = tuple(k for k in FACE if k != FACE_ROOT)
_PARTS: tuple[tuple[tuple[int, ...], int], ...] = (
    (_FACE_CHILDREN, FACE_ROOT),
    (LEFT_HAND, LEFT_HAND_ROOT),
    (RIGHT_HAND, RIGHT_HAND_ROOT),
)


def parent_in_parted(index: int) -> int | None:
    """The keypoint a 121-layout keypoint is stored relative to in hierarchical mode (None: the neck)."""
    for children, root in _PARTS:
        if index in children:
            return root
    return None


def _is_torch(x: Any) -> bool:
    return type(x).__module__.startswith("torch")


def _copy(x: Any) -> Any:
    return x.clone() if _is_torch(x) else np.array(x, copy=True)


def reduce_to_121(pose: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """137 OpenPose keypoints → the 121 neck-relative keypoints the model predicts, and the neck.

    Args:
        pose: (..., 137, 2) x, y in pixels (e.g. (64, 137, 2) at 15 fps).

    Returns:
        ``(relative, neck)``: (..., 121, 2) float64 pixels relative to the neck, and (..., 2)
        float64 absolute neck position in pixels.

    Raises:
        ValueError: the last two dimensions are not (137, 2).
    """
    pose = np.asarray(pose)
    if pose.shape[-2:] != (NUM_OPENPOSE, 2):
        raise ValueError(f"expected keypoints of shape (..., {NUM_OPENPOSE}, 2), got {pose.shape}")
    p = pose.astype(np.float64)
    neck = p[..., NECK_137, :]
    return p[..., list(KEPT_137), :] - neck[..., None, :], neck


def expand_to_137(relative: np.ndarray, neck: np.ndarray | None = None) -> np.ndarray:
    """Inverse of :func:`reduce_to_121`: 121 neck-relative keypoints → the 137 OpenPose layout.

    Args:
        relative: (..., 121, 2) pixels relative to the neck.
        neck: (..., 2) or (2,) absolute neck position in pixels; None puts the neck at (0, 0).

    Returns:
        (..., 137, 2) float64 pixels; the keypoints the model does not predict
        (:data:`DROPPED_137`: legs, hips, ears, feet) are NaN.

    Raises:
        ValueError: the last two dimensions of ``relative`` are not (121, 2).
    """
    rel = np.asarray(relative, dtype=np.float64)
    if rel.shape[-2:] != (NUM_KEYPOINTS, 2):
        raise ValueError(f"expected keypoints of shape (..., {NUM_KEYPOINTS}, 2), got {rel.shape}")
    base = np.zeros(rel.shape[:-2] + (2,)) if neck is None else np.broadcast_to(
        np.asarray(neck, dtype=np.float64), rel.shape[:-2] + (2,))
    out = np.full(rel.shape[:-2] + (NUM_OPENPOSE, 2), np.nan)
    out[..., NECK_137, :] = base
    out[..., list(KEPT_137), :] = rel + base[..., None, :]
    return out


def to_parted(keypoints: Any) -> Any:
    """Global (neck-relative) → hierarchical: face points relative to the nose tip, hands to the wrists.

    Args:
        keypoints: (..., 121, 2) numpy array or torch tensor.

    Returns:
        A new array/tensor of the same shape and type (the roots themselves are unchanged).
    """
    out = _copy(keypoints)
    for children, root in _PARTS:
        idx = list(children)
        out[..., idx, :] = keypoints[..., idx, :] - keypoints[..., root : root + 1, :]
    return out


def to_global(keypoints: Any) -> Any:
    """Inverse of :func:`to_parted`: hierarchical → global (neck-relative) keypoints.

    Args:
        keypoints: (..., 121, 2) numpy array or torch tensor in the hierarchical form.

    Returns:
        A new array/tensor of the same shape and type.
    """
    out = _copy(keypoints)
    for children, root in _PARTS:  # the roots are body points or the face root: never a child
        idx = list(children)
        out[..., idx, :] = keypoints[..., idx, :] + keypoints[..., root : root + 1, :]
    return out


def flat_to_keypoints(flat: Any) -> Any:
    """Flat poses (..., 242) ``[x0..x120, y0..y120]`` → keypoints (..., 121, 2); numpy or torch.

    Raises:
        ValueError: the last dimension is not 242.
    """
    if flat.shape[-1] != POSE_DIM:
        raise ValueError(f"expected poses of shape (..., {POSE_DIM}), got {tuple(flat.shape)}")
    return flat.reshape(*flat.shape[:-1], 2, NUM_KEYPOINTS).swapaxes(-1, -2)


def keypoints_to_flat(keypoints: Any) -> Any:
    """Keypoints (..., 121, 2) → flat poses (..., 242); inverse of :func:`flat_to_keypoints`.

    Raises:
        ValueError: the last two dimensions are not (121, 2).
    """
    if tuple(keypoints.shape[-2:]) != (NUM_KEYPOINTS, 2):
        raise ValueError(f"expected keypoints of shape (..., {NUM_KEYPOINTS}, 2), got {tuple(keypoints.shape)}")
    return keypoints.swapaxes(-1, -2).reshape(*keypoints.shape[:-2], POSE_DIM)


def normalise(relative: Any, mean: Any, std: Any, scale: Any, hierarchical: bool) -> Any:
    """Neck-relative pixels → the model's normalised flat poses.

    ``relative / scale`` → hierarchical form (if ``hierarchical``) → flat 242 → ``(x − mean) / std``.

    Args:
        relative: (..., 121, 2) neck-relative pixels (numpy or torch).
        mean, std: (242,) or broadcastable (..., 242) per-speaker statistics of the scaled
            (hierarchical, if on) poses.
        scale: the speaker's scale factor (scalar or broadcastable to (..., 1, 1)).
        hierarchical: use the parted representation.

    Returns:
        (..., 242) normalised poses.
    """
    x = relative / scale
    if hierarchical:
        x = to_parted(x)
    return (keypoints_to_flat(x) - mean) / std


def denormalise(flat: Any, mean: Any, std: Any, scale: Any, hierarchical: bool) -> Any:
    """Inverse of :func:`normalise`: normalised (..., 242) → (..., 121, 2) neck-relative pixels.

    De-normalises with ``mean``/``std``, reverses parted → global (if ``hierarchical``) and
    multiplies by the speaker's scale factor (SDT ``GestureDataset.get_final_results``).
    """
    x = flat_to_keypoints(flat * std + mean)
    if hierarchical:
        x = to_global(x)
    return x * scale


def _chain(points: tuple[int, ...]) -> list[tuple[int, int]]:
    return list(zip(points[:-1], points[1:], strict=True))


def _loop(points: tuple[int, ...]) -> list[tuple[int, int]]:
    return _chain(points) + [(points[-1], points[0])]


BODY_25_LIMBS: tuple[tuple[int, int], ...] = (
    (1, 8), (1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (8, 9), (9, 10), (10, 11), (8, 12), (12, 13),
    (13, 14), (1, 0), (0, 15), (15, 17), (0, 16), (16, 18), (14, 19), (19, 20), (14, 21), (11, 22), (22, 23),
    (11, 24),
)
"""Every limb of the OpenPose BODY_25 layout, in OpenPose's rendering order (CMU-Perceptual-Computing-Lab/
openpose ``poseParametersRender.hpp``, ``POSE_BODY_25_PAIRS_RENDER``): neck–mid-hip, shoulders, arms, hips,
legs, neck–nose, nose–eyes–ears, feet."""
BODY_EDGES_137: tuple[tuple[int, int], ...] = BODY_25_LIMBS
"""The body edges drawn: all of BODY_25 (the reference draws only shoulders and arms, which leaves the
head floating above the shoulders). Limbs with an unmodelled end (legs, hips, ears, feet: NaN after
:func:`expand_to_137`) are skipped by the renderer."""

_FACE_LOCAL: list[tuple[int, int]] = (
    _chain(tuple(range(0, 17)))  # jaw
    + _chain(tuple(range(17, 22))) + _chain(tuple(range(22, 27)))  # brows
    + _chain(tuple(range(27, 31))) + _chain(tuple(range(31, 36)))  # nose bridge, nostrils
    + _loop(tuple(range(36, 42))) + _loop(tuple(range(42, 48)))  # eyes
    + _loop(tuple(range(48, 60))) + _loop(tuple(range(60, 68)))  # outer and inner lips
)
FACE_EDGES_137: tuple[tuple[int, int], ...] = tuple((25 + a, 25 + b) for a, b in _FACE_LOCAL)
"""The 68-landmark face outline (jaw, brows, nose, eyes, lips), in 137 indices."""

FINGERS = ("thumb", "index", "middle", "ring", "little")


def finger_edges(hand_start: int, finger: int) -> list[tuple[int, int]]:
    """Bones of one finger (0 thumb … 4 little) of the hand whose 21 points start at ``hand_start``."""
    return _chain((hand_start, *range(hand_start + 1 + 4 * finger, hand_start + 5 + 4 * finger)))


LEFT_HAND_START_137 = 95
RIGHT_HAND_START_137 = 116

BODY_COLOR = (25, 175, 25)
"""Body: green (as the reference's drawing)."""
FACE_COLOR = (100, 100, 100)
"""Face: grey."""
FINGER_COLORS: tuple[tuple[int, int, int], ...] = (
    (230, 60, 60), (240, 150, 30), (200, 190, 20), (40, 150, 220), (150, 70, 200),
)
"""One RGB colour per finger, thumb to little (same on both hands)."""
BODY_WIDTH, FACE_WIDTH, HAND_WIDTH = 4, 2, 3
"""Line widths in pixels (the reference draws body 4, face 2, hands 3 at 1280×720)."""


def skeleton_137() -> tuple[list[tuple[int, int]], list[tuple[int, int, int]], list[int]]:
    """The full 137-keypoint drawing: (edges, RGB colour per edge, line width per edge).

    Body green and thick, face grey and thin, each finger of both hands its own colour.
    """
    edges: list[tuple[int, int]] = list(BODY_EDGES_137)
    colors: list[tuple[int, int, int]] = [BODY_COLOR] * len(BODY_EDGES_137)
    widths = [BODY_WIDTH] * len(BODY_EDGES_137)
    edges += FACE_EDGES_137
    colors += [FACE_COLOR] * len(FACE_EDGES_137)
    widths += [FACE_WIDTH] * len(FACE_EDGES_137)
    for start in (LEFT_HAND_START_137, RIGHT_HAND_START_137):
        for f in range(5):
            bones = finger_edges(start, f)
            edges += bones
            colors += [FINGER_COLORS[f]] * len(bones)
            widths += [HAND_WIDTH] * len(bones)
    return edges, colors, widths
