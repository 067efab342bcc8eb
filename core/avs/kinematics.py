"""A small kinematic upper body with human proportions, for the synthetic gesture data sets.

The synthetic sets (``avs data synth s2g``, ``avs data synth sdt``) used to place every keypoint
with its own formula; a model trained on them learned tangled fingers and bones that stretch.
Here the keypoints come from a skeleton: bones of fixed length, joint angles inside human limits,
fingers that curl together, projected to the image. A plugin's ``synth.py`` maps its audio
features to :class:`JointAngles`; this module turns the angles into keypoints.

Geometry (image coordinates, x right, y down, pixels):

- **Arms** move in the image plane, so their bones keep their length in every frame. The
  shoulder sits ``shoulder_half`` beside the neck and ``shoulder_drop`` below it (raised by
  ``shrug``). Angles are measured from straight down; abduction swings the upper arm away from
  the body, elbow flexion turns the forearm towards the midline and upwards (a hanging arm at
  0°, a forearm held across the chest near 110°).
- **Hands** are three-dimensional and projected orthographically: the palm is a fan of
  metacarpals from the wrist, each finger a chain of three phalanges (the thumb: carpal,
  metacarpal, two phalanges). Curling flexes every finger's MCP, PIP and DIP joints together
  (DIP = ⅔ PIP, the tendon coupling of a real finger) towards the palm normal, so fingers fold
  in their own lanes and do not cross (curl stops at a relaxed half-closed hand); spreading
  abducts them within the joint limits. The hand's long axis follows the forearm (plus the
  wrist's radial/ulnar deviation); the palm faces the camera turned by ``pronation`` about that
  axis, so curled fingers foreshorten.

Proportions: segment lengths as fractions of standing height H from Drillis & Contini (1966),
"Body segment parameters", via Winter, *Biomechanics and Motor Control of Human Movement*, 4th
ed., fig. 4.1 (biacromial breadth 0.259 H, upper arm 0.186 H, forearm 0.146 H, hand 0.108 H);
finger bones from Buryanov & Kotiuk (2010), "Proportions of hand segments", Int. J. Morphol.
28(3) (mean phalanx lengths; metacarpals scaled to a 0.108 H hand). Joint limits are the usual
clinical active ranges (American Academy of Orthopaedic Surgeons): elbow flexion 0–150°, wrist
radial/ulnar deviation −20…30°, MCP flexion 0–90°, PIP 0–100°, DIP 0–70°, finger abduction
about ±20°.

The keypoint order of a hand is OpenPose's 21 points: 0 wrist, then thumb, index, middle, ring,
little, four each from the base to the tip (thumb: CMC, MCP, IP, tip; fingers: MCP, PIP, DIP, tip).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["BodyProportions", "JointAngles", "JOINT_LIMITS", "UpperBody", "hand_points", "upper_body"]

# Fractions of standing height H (Drillis & Contini 1966).
SHOULDER_HALF_H = 0.259 / 2
UPPER_ARM_H = 0.186
FOREARM_H = 0.146
HAND_H = 0.108
SHOULDER_DROP_H = 0.035
"""Acromion below the neck keypoint: OpenPose's neck sits at the base of the neck, so the shoulder line slopes ~15°."""

# Hand in millimetres for a 189 mm hand (0.108 · 1750 mm): fingers thumb, index, middle, ring,
# little. Each: base position on the palm (x towards the thumb, y along the hand from the wrist),
# rest direction in degrees (towards the thumb = positive) and bone lengths base → tip.
_HAND_MM = 189.0
_FINGER_BASE_MM = ((22.0, 25.0), (26.0, 93.0), (6.0, 96.0), (-13.0, 90.0), (-30.0, 80.0))
_FINGER_REST_DEG = (30.0, 6.0, 0.0, -5.0, -11.0)
_FINGER_BONES_MM = ((40.0, 31.0, 24.0), (40.0, 22.0, 17.0), (45.0, 26.0, 18.0), (41.0, 26.0, 17.0),
                    (33.0, 18.0, 16.0))
"""Per finger the three bones after the base point: thumb metacarpal, proximal, distal phalanx;
fingers proximal, middle, distal phalanx (Buryanov & Kotiuk 2010, rounded)."""

JOINT_LIMITS: dict[str, tuple[float, float]] = {
    "shrug": (0.0, 1.0),
    "abduction": (-12.0, 100.0),
    "elbow_flexion": (0.0, 150.0),
    "wrist_deviation": (-20.0, 30.0),
    "pronation": (-20.0, 20.0),
    "curl": (0.0, 1.0),
    "spread": (0.0, 1.0),
}
"""Range of each joint angle (degrees; shrug, curl and spread are fractions of their full range)."""

_MCP_MAX, _PIP_MAX, _DIP_PER_PIP = 30.0, 35.0, 2.0 / 3.0
"""Full curl: MCP 30°, PIP 35°, DIP ⅔ of PIP (88° at the tip): a relaxed, half-closed hand, well inside
the clinical 90° / 100° / 70°. A tighter fist, or a palm turned further from the camera, makes the
2-D projection of the fingers overlap (measured with :func:`avs.metrics.skeleton.finger_crossing_rate`),
which a keypoint detector could not report either."""
_SPREAD_DEG = 9.0
"""Extra abduction per finger at full spread (index +9°, ring −9°, little −18°, thumb +18°)."""


@dataclass(frozen=True)
class BodyProportions:
    """Bone lengths in pixels for one figure.

    Attributes:
        height: standing height H in pixels the segment fractions scale (a figure whose shoulders
            are 300 px wide has H ≈ 1160 px).
        shoulder_half: neck → shoulder, horizontal (0.1295 H).
        shoulder_drop: neck → shoulder, vertical (0.035 H).
        upper_arm: shoulder → elbow (0.186 H).
        forearm: elbow → wrist (0.146 H).
        hand: wrist → middle fingertip (0.108 H).
    """

    height: float
    shoulder_half: float
    shoulder_drop: float
    upper_arm: float
    forearm: float
    hand: float

    @classmethod
    def from_height(cls, height: float) -> BodyProportions:
        """Drillis & Contini's fractions of ``height`` pixels."""
        h = float(height)
        return cls(h, SHOULDER_HALF_H * h, SHOULDER_DROP_H * h, UPPER_ARM_H * h, FOREARM_H * h, HAND_H * h)

    @classmethod
    def from_shoulder_width(cls, width: float) -> BodyProportions:
        """The figure whose biacromial breadth (shoulder to shoulder) is ``width`` pixels."""
        return cls.from_height(float(width) / (2 * SHOULDER_HALF_H))


@dataclass
class JointAngles:
    """One arm's joint angles over T frames (each a (T,) array or a scalar; clipped to :data:`JOINT_LIMITS`).

    Attributes:
        shrug: shoulder raise, 0 (rest) … 1 (raised by 0.03 H).
        abduction: upper arm away from the body, degrees from hanging straight down.
        elbow_flexion: forearm towards the midline and up, degrees (0 = straight arm).
        wrist_deviation: hand axis relative to the forearm, degrees (+ towards the thumb).
        pronation: palm rotation about the forearm, degrees (0 = palm towards the camera).
        curl: 0 open … 1 half closed; every finger's joints flex together.
        spread: 0 fingers together … 1 spread.
    """

    shrug: np.ndarray | float = 0.0
    abduction: np.ndarray | float = 8.0
    elbow_flexion: np.ndarray | float = 10.0
    wrist_deviation: np.ndarray | float = 0.0
    pronation: np.ndarray | float = 5.0
    curl: np.ndarray | float = 0.3
    spread: np.ndarray | float = 0.3

    def clipped(self, num_frames: int) -> dict[str, np.ndarray]:
        """name → (T,) float64 angle, broadcast to ``num_frames`` and clipped to its limits."""
        out = {}
        for name, (lo, hi) in JOINT_LIMITS.items():
            value = np.broadcast_to(np.asarray(getattr(self, name), dtype=np.float64), (num_frames,))
            out[name] = np.clip(value, lo, hi)
        return out


@dataclass(frozen=True)
class UpperBody:
    """Keypoints of one posed upper body, (T, 2) or (T, 21, 2) pixels each (x, y; y down).

    "Right" and "left" are the person's (OpenPose's convention): the right arm is on the image's left.
    """

    neck: np.ndarray
    right_shoulder: np.ndarray
    right_elbow: np.ndarray
    right_wrist: np.ndarray
    right_hand: np.ndarray
    left_shoulder: np.ndarray
    left_elbow: np.ndarray
    left_wrist: np.ndarray
    left_hand: np.ndarray


def _unit(angle_deg: np.ndarray) -> np.ndarray:
    """(T,) angles from straight down (+y), counter-clockwise on screen → (T, 2) unit vectors."""
    a = np.deg2rad(angle_deg)
    return np.stack([np.sin(a), np.cos(a)], axis=-1)


def hand_points(wrist: np.ndarray, axis_deg: np.ndarray, pronation_deg: np.ndarray, curl: np.ndarray,
                spread: np.ndarray, side: float, length: float) -> np.ndarray:
    """OpenPose's 21 hand points from a 3-D hand projected orthographically onto the image.

    The hand is built in its own frame (x across the palm towards the thumb, y from the wrist to
    the fingers, z out of the palm), rotated by ``pronation_deg`` about its long axis, dropped to
    the image plane (orthographic) and turned so that y points along ``axis_deg``.

    Args:
        wrist: (T, 2) wrist position, pixels.
        axis_deg: (T,) direction of the hand's long axis, degrees from straight down
            (counter-clockwise on screen).
        pronation_deg: (T,) palm rotation about the long axis, degrees.
        curl: (T,) in [0, 1]: MCP = 30°·curl, PIP = 35°·curl, DIP = ⅔ PIP, all fingers together
            (the thumb's joints flex half as much, towards the palm).
        spread: (T,) in [0, 1]: finger abduction, up to ±9° per finger from the middle finger.
        side: +1 for the person's right hand, −1 for the left (mirror image on screen).
        length: wrist → middle fingertip with the hand open, pixels.

    Returns:
        (T, 21, 2) float64 pixels: 0 wrist, then thumb … little, four points each, base to tip.
    """
    t = wrist.shape[0]
    scale = float(length) / _HAND_MM
    pts = np.zeros((t, 21, 3))
    for f in range(5):
        base = np.array([_FINGER_BASE_MM[f][0], _FINGER_BASE_MM[f][1], 0.0]) * scale
        abduct = np.deg2rad(_FINGER_REST_DEG[f] + _SPREAD_DEG * (f - 2 if f else 2) * spread)
        flex_scale = 0.5 if f == 0 else 1.0
        flex = np.stack([_MCP_MAX * curl, _PIP_MAX * curl, _DIP_PER_PIP * _PIP_MAX * curl], axis=-1)
        flex = np.deg2rad(flex * flex_scale)  # (T, 3)
        point = np.broadcast_to(base, (t, 3)).copy()
        pts[:, 1 + 4 * f] = point
        bend = np.zeros(t)
        for j, bone in enumerate(_FINGER_BONES_MM[f]):
            bend = bend + flex[:, j]
            # direction: abducted in the palm plane, flexed towards +z (out of the palm)
            d = np.stack([np.sin(abduct) * np.cos(bend), np.cos(abduct) * np.cos(bend), np.sin(bend)], axis=-1)
            point = point + bone * scale * d
            pts[:, 2 + 4 * f + j] = point
    # pronation: rotate about the long axis y; then orthographic projection (drop z)
    p = np.deg2rad(pronation_deg)[:, None]
    x_img = pts[..., 0] * np.cos(p) + pts[..., 2] * np.sin(p)
    y_img = pts[..., 1]
    # hand frame → screen: y along the axis, x towards the thumb. The right hand hanging with the
    # palm to the camera has its thumb away from the body (image left, −x); mirror for the left.
    along = _unit(axis_deg)[:, None, :]  # (T, 1, 2)
    across = np.stack([-along[..., 1], along[..., 0]], axis=-1) * side  # +90° on screen, mirrored by side
    return wrist[:, None, :] + x_img[..., None] * across + y_img[..., None] * along


def upper_body(neck: np.ndarray, proportions: BodyProportions, right: JointAngles,
               left: JointAngles) -> UpperBody:
    """Forward kinematics: joint angles → keypoints of the neck, both arms and both hands.

    Args:
        neck: (T, 2) neck keypoint, pixels (the root; the figure translates with it).
        proportions: bone lengths.
        right, left: each arm's angles (:class:`JointAngles`), clipped to :data:`JOINT_LIMITS`.

    Returns:
        :class:`UpperBody` with every keypoint in pixels. Shoulder, upper-arm and forearm lengths
        are the same in every frame; the hands foreshorten with pronation and curl.
    """
    neck = np.asarray(neck, dtype=np.float64)
    t = neck.shape[0]
    parts: dict[str, np.ndarray] = {"neck": neck}
    for name, side, angles in (("right", +1.0, right), ("left", -1.0, left)):
        a = angles.clipped(t)
        # side +1: the person's right = image left, so "out" is −x there.
        shoulder = neck + np.stack(
            [-side * proportions.shoulder_half * np.ones(t),
             proportions.shoulder_drop - 0.03 * proportions.height * a["shrug"]], axis=-1)
        upper_dir = -side * a["abduction"]
        elbow = shoulder + proportions.upper_arm * _unit(upper_dir)
        fore_dir = upper_dir + side * a["elbow_flexion"]
        wrist = elbow + proportions.forearm * _unit(fore_dir)
        # wrist deviation towards the thumb: the right thumb is on the image's left when hanging
        hand_axis = fore_dir - side * a["wrist_deviation"]
        hand = hand_points(wrist, hand_axis, a["pronation"], a["curl"], a["spread"], side, proportions.hand)
        parts[f"{name}_shoulder"], parts[f"{name}_elbow"], parts[f"{name}_wrist"] = shoulder, elbow, wrist
        parts[f"{name}_hand"] = hand
    return UpperBody(**parts)
