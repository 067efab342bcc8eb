"""Names and index sets: the 52 ARKit blendshapes, the 8 RAVDESS emotions, face regions.

No torch, no heavy imports: the CLI's start-up path may read these.

The blendshape order is EmoTalk's (alphabetical ARKit names, as the reference's outputs): column ``i``
of every ``(T, 52)`` array is ``ARKIT_NAMES[i]``.
"Left"/"Right" are the subject's sides (ARKit convention), so a face drawn towards the viewer
shows the subject's left eye on the image's right.
"""

from __future__ import annotations

ARKIT_NAMES: tuple[str, ...] = (
    "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight",
    "cheekPuff", "cheekSquintLeft", "cheekSquintRight", "eyeBlinkLeft", "eyeBlinkRight",
    "eyeLookDownLeft", "eyeLookDownRight", "eyeLookInLeft", "eyeLookInRight", "eyeLookOutLeft",
    "eyeLookOutRight", "eyeLookUpLeft", "eyeLookUpRight", "eyeSquintLeft", "eyeSquintRight",
    "eyeWideLeft", "eyeWideRight", "jawForward", "jawLeft", "jawOpen", "jawRight", "mouthClose",
    "mouthDimpleLeft", "mouthDimpleRight", "mouthFrownLeft", "mouthFrownRight", "mouthFunnel",
    "mouthLeft", "mouthLowerDownLeft", "mouthLowerDownRight", "mouthPressLeft", "mouthPressRight",
    "mouthPucker", "mouthRight", "mouthRollLower", "mouthRollUpper", "mouthShrugLower",
    "mouthShrugUpper", "mouthSmileLeft", "mouthSmileRight", "mouthStretchLeft", "mouthStretchRight",
    "mouthUpperUpLeft", "mouthUpperUpRight", "noseSneerLeft", "noseSneerRight", "tongueOut",
)
"""The 52 ARKit blendshape names in EmoTalk's (alphabetical) channel order."""

NUM_BLENDSHAPES = len(ARKIT_NAMES)
INDEX: dict[str, int] = {name: i for i, name in enumerate(ARKIT_NAMES)}
"""Blendshape name → channel index."""

EYE_BLINK = (INDEX["eyeBlinkLeft"], INDEX["eyeBlinkRight"])
"""Channels 8 and 9, which the reference demo replaces with scripted blinks."""

MOUTH_JAW: tuple[int, ...] = tuple(i for i, n in enumerate(ARKIT_NAMES) if n.startswith(("jaw", "mouth", "tongue")))
"""Channels of the mouth/jaw region (every ``jaw*``, ``mouth*`` and ``tongueOut``: 28 channels)."""
EYES_BROWS: tuple[int, ...] = tuple(i for i, n in enumerate(ARKIT_NAMES) if n.startswith(("eye", "brow")))
"""Channels of the eyes/brows region (every ``eye*`` and ``brow*``: 19 channels)."""

LIVE_LINK_ORDER: tuple[str, ...] = (
    "eyeBlinkLeft", "eyeLookDownLeft", "eyeLookInLeft", "eyeLookOutLeft", "eyeLookUpLeft", "eyeSquintLeft",
    "eyeWideLeft", "eyeBlinkRight", "eyeLookDownRight", "eyeLookInRight", "eyeLookOutRight", "eyeLookUpRight",
    "eyeSquintRight", "eyeWideRight", "jawForward", "jawRight", "jawLeft", "jawOpen", "mouthClose",
    "mouthFunnel", "mouthPucker", "mouthRight", "mouthLeft", "mouthSmileLeft", "mouthSmileRight",
    "mouthFrownLeft", "mouthFrownRight", "mouthDimpleLeft", "mouthDimpleRight", "mouthStretchLeft",
    "mouthStretchRight", "mouthRollLower", "mouthRollUpper", "mouthShrugLower", "mouthShrugUpper",
    "mouthPressLeft", "mouthPressRight", "mouthLowerDownLeft", "mouthLowerDownRight", "mouthUpperUpLeft",
    "mouthUpperUpRight", "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight",
    "cheekPuff", "cheekSquintLeft", "cheekSquintRight", "noseSneerLeft", "noseSneerRight", "tongueOut",
)
"""The 52 names in the column order of a Live Link Face CSV export (ARKit's face-anchor order)."""

EMOTIONS: tuple[str, ...] = ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised")
"""The 8 RAVDESS emotions; RAVDESS emotion code ``k`` (01–08) is class ``k - 1``."""

NUM_LEVELS = 2
"""Emotion levels: 0 = normal, 1 = strong (RAVDESS intensity code 01 / 02)."""
NUM_PERSONS = 24
"""Speaking styles: one per RAVDESS actor (actor code ``a`` is person ``a - 1``)."""


def emotion_index(name: str) -> int:
    """Class index of a RAVDESS emotion name (case-insensitive).

    Raises:
        ValueError: an unknown name (callers turn it into a one-line AvsError).
    """
    key = str(name).strip().lower()
    if key not in EMOTIONS:
        raise ValueError(f"unknown emotion {name!r} (known: auto, {', '.join(EMOTIONS)})")
    return EMOTIONS.index(key)
