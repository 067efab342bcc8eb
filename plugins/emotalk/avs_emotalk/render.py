"""A 2-D face drawn from the 52 ARKit curves (OpenCV): the preview renderer of ``avs predict emotalk``.

The reference renders with Blender on an ARKit head that cannot be redistributed. This is an honest
cartoon instead: every drawn part is a fixed function of the weights (:func:`face_geometry`), so what
moves on screen is what the curves say:

- jaw outline and chin: ``jawOpen`` (chin drops), ``jawLeft``/``jawRight`` (sideways), ``jawForward``;
- lips: corners from ``mouthSmile*`` (up and out), ``mouthFrown*`` (down), ``mouthStretch*``,
  ``mouthDimple*`` (out), ``mouthPucker``/``mouthFunnel`` (narrow), ``mouthLeft``/``mouthRight``
  (sideways); opening from ``jawOpen``, ``mouthLowerDown*``, ``mouthUpperUp*``, ``mouthFunnel``, closed
  by ``mouthClose``; thickness from ``mouthRoll*``, ``mouthPress*``, ``mouthPucker``, ``mouthShrug*``;
  ``tongueOut``;
- eyes: lids from ``eyeBlink*`` (close), ``eyeWide*`` (open wider), ``eyeSquint*`` (lower lid up);
  irises from ``eyeLook{Up,Down,In,Out}*``;
- brows: ``browInnerUp`` (inner ends up), ``browOuterUp*`` (outer ends up), ``browDown*`` (down and in);
- cheeks: ``cheekSquint*`` (raised), ``cheekPuff`` (rounder, and the face outline widens);
- nose: ``noseSneer*`` (nostrils up, wrinkles).

"Left"/"Right" are the subject's: the face looks at the viewer, so its left eye is on the image's right.
:class:`FaceRenderer` follows :class:`avs.protocols.Renderer`; a 3-D rig renderer can replace it by
providing the same ``size`` and ``frames(motion)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import cv2
import numpy as np

from avs.api import AvsError, Motion
from avs_emotalk.arkit import EMOTIONS, INDEX, NUM_BLENDSHAPES

BACKGROUND = (232, 236, 241)
SKIN = (241, 201, 172)
SKIN_LINE = (176, 126, 102)
HAIR = (74, 54, 44)
BROW = (62, 44, 34)
EYE_WHITE = (251, 251, 251)
IRIS = (66, 112, 160)
PUPIL = (18, 18, 22)
LID = (58, 40, 34)
LIPS = (196, 90, 96)
LIP_LINE = (140, 54, 62)
MOUTH_INSIDE = (74, 22, 32)
TEETH = (246, 246, 240)
TONGUE = (214, 108, 120)
CHEEK = (234, 142, 134)
"""RGB colours."""

_SHIFT = 4  # sub-pixel bits for cv2 drawing
_N = 25  # points per curve


def _w(weights: np.ndarray, name: str) -> float:
    return float(np.clip(weights[INDEX[name]], 0.0, 1.0))


def _curve(left: np.ndarray, right: np.ndarray, bulge: float, bow: float = 0.0) -> np.ndarray:
    """(N, 2) points from ``left`` to ``right`` with a parabolic bulge of ``bulge`` (y units, + is down) at
    the middle and, with ``bow``, two Cupid's-bow peaks raised by ``bow``."""
    t = np.linspace(-1.0, 1.0, _N)
    x = left[0] + (right[0] - left[0]) * (t + 1) / 2
    y = left[1] + (right[1] - left[1]) * (t + 1) / 2 + bulge * (1 - t**2)
    if bow:
        peaks = np.exp(-((t - 0.28) / 0.22) ** 2) + np.exp(-((t + 0.28) / 0.22) ** 2)
        y = y - bow * (peaks - 0.6 * np.exp(-(t / 0.12) ** 2))
    return np.stack([x, y], axis=1)


def face_geometry(weights: np.ndarray) -> dict[str, Any]:
    """Every drawn part for one frame, in face units (origin at the face centre, x right, y down; the
    face is about 1.9 units wide). Subject's right = image left (negative x).

    Args:
        weights: (52,) ARKit weights (clipped to [0, 1] here).

    Returns:
        ``outline`` (N, 2) the face contour (cranium and jaw); ``chin`` (2,); ``brows`` {"right", "left"}
        (5, 2) inner → outer; ``eyes`` {side: {"upper" (N, 2), "lower" (N, 2), "iris" (2,), "iris_r",
        "centre" (2,)}}; ``mouth`` {"corners" (2, 2) right/left, "upper_outer", "upper_inner",
        "lower_inner", "lower_outer" (N, 2), "gap", "tongue" (2,)}; ``cheeks`` {side: (centre (2,),
        axes (2,))}; ``nostrils`` {side: (2,)}; ``sneer`` float.
    """
    w = np.asarray(weights, dtype=np.float64).reshape(NUM_BLENDSHAPES)
    jaw = _w(w, "jawOpen")
    jaw_shift = 0.12 * (_w(w, "jawLeft") - _w(w, "jawRight"))
    jaw_drop = 0.24 * jaw + 0.03 * _w(w, "jawForward")
    puff = _w(w, "cheekPuff")

    lower = np.linspace(0.0, np.pi, 48)  # right temple → chin → left temple (x from + to −)
    lx = 0.93 * np.cos(lower) * (1 + 0.10 * puff * np.sin(2 * lower) ** 2) + jaw_shift * np.sin(lower) ** 3
    ly = -0.12 + (1.17 + jaw_drop * np.sin(lower) ** 2) * np.sin(lower) ** 0.9
    upper = np.linspace(np.pi, 2 * np.pi, 40)[1:-1]
    outline = np.concatenate([np.stack([lx, ly], 1), np.stack([0.93 * np.cos(upper), -0.12 + 1.08 * np.sin(upper)], 1)])
    chin = np.array([jaw_shift, -0.12 + 1.17 + jaw_drop])

    brows, eyes, cheeks, nostrils = {}, {}, {}, {}
    sneer = 0.5 * (_w(w, "noseSneerLeft") + _w(w, "noseSneerRight"))
    for side, sign in (("right", -1.0), ("left", 1.0)):
        cap = side.capitalize()
        inner_up, outer_up, down = _w(w, "browInnerUp"), _w(w, f"browOuterUp{cap}"), _w(w, f"browDown{cap}")
        xs = np.array([0.15, 0.26, 0.38, 0.50, 0.60]) + 0.04 * down * np.array([-1, -0.6, -0.3, 0, 0])
        base = np.array([-0.30, -0.34, -0.355, -0.34, -0.30])
        lift = (-0.15 * inner_up * np.array([1.0, 0.7, 0.4, 0.15, 0.0])
                - 0.13 * outer_up * np.array([0.0, 0.15, 0.45, 0.8, 1.0])
                + 0.10 * down * np.array([1.0, 0.8, 0.5, 0.3, 0.2]))
        brows[side] = np.stack([sign * xs, base + lift], 1)

        blink, wide, squint = _w(w, f"eyeBlink{cap}"), _w(w, f"eyeWide{cap}"), _w(w, f"eyeSquint{cap}")
        centre = np.array([sign * 0.36, -0.10])
        half = 0.17
        open_up = 0.095 * (1 + 0.8 * wide - 0.35 * squint)
        low = 0.065 * (1 - 0.55 * squint) * (1 - 0.3 * blink)
        closed = 0.035 - 0.02 * squint
        t = np.linspace(-1.0, 1.0, _N)
        ex = centre[0] + half * t
        upper_y = centre[1] + (1 - t**2) * ((1 - blink) * -open_up + blink * closed)
        lower_y = centre[1] + (1 - t**2) * low
        look_in, look_out = _w(w, f"eyeLookIn{cap}"), _w(w, f"eyeLookOut{cap}")
        towards_nose = -sign  # the subject's left eye looks "in" towards the image's left
        gx = 0.075 * (look_in - look_out) * towards_nose
        gy = 0.045 * (_w(w, f"eyeLookDown{cap}") - _w(w, f"eyeLookUp{cap}"))
        eyes[side] = {"upper": np.stack([ex, upper_y], 1), "lower": np.stack([ex, lower_y], 1),
                      "iris": centre + np.array([gx, gy]), "iris_r": 0.068, "centre": centre}

        cheek_squint = _w(w, f"cheekSquint{cap}")
        cheeks[side] = (np.array([sign * 0.53, 0.30 - 0.07 * cheek_squint]),
                        np.array([0.15 + 0.07 * puff, 0.085 + 0.035 * puff + 0.01 * cheek_squint]))
        nostrils[side] = np.array([sign * 0.075, 0.34 - 0.05 * _w(w, f"noseSneer{cap}")])

    # mouth
    shift = 0.10 * (_w(w, "mouthLeft") - _w(w, "mouthRight")) + 0.6 * jaw_shift
    pucker, funnel = _w(w, "mouthPucker"), _w(w, "mouthFunnel")
    upper_up = 0.5 * (_w(w, "mouthUpperUpLeft") + _w(w, "mouthUpperUpRight"))
    lower_down = 0.5 * (_w(w, "mouthLowerDownLeft") + _w(w, "mouthLowerDownRight"))
    press = 0.5 * (_w(w, "mouthPressLeft") + _w(w, "mouthPressRight"))
    y0 = 0.60 - 0.03 * _w(w, "mouthShrugUpper")
    corners = []
    for side, sign in (("right", -1.0), ("left", 1.0)):
        cap = side.capitalize()
        smile, frown = _w(w, f"mouthSmile{cap}"), _w(w, f"mouthFrown{cap}")
        stretch, dimple = _w(w, f"mouthStretch{cap}"), _w(w, f"mouthDimple{cap}")
        half = max(0.08, 0.27 + 0.07 * smile + 0.09 * stretch + 0.04 * dimple - 0.12 * pucker - 0.09 * funnel)
        corners.append(np.array([shift + sign * half,
                                 y0 - 0.11 * smile + 0.09 * frown + 0.03 * stretch + 0.07 * jaw]))
    right_corner, left_corner = corners
    gap = max(0.0, 0.32 * jaw + 0.05 * lower_down + 0.04 * upper_up + 0.06 * funnel
              - 0.34 * min(_w(w, "mouthClose"), jaw))
    t_up = 0.055 * (1 - 0.6 * _w(w, "mouthRollUpper") - 0.4 * press) + 0.03 * (pucker + funnel)
    t_low = 0.07 * (1 - 0.6 * _w(w, "mouthRollLower") - 0.4 * press) + 0.02 * (pucker + funnel)
    mid_corner = 0.5 * (right_corner[1] + left_corner[1])
    upper_inner_mid = y0 - 0.25 * gap - 0.04 * upper_up
    lower_inner_mid = y0 + 0.75 * gap + 0.05 * lower_down - 0.03 * _w(w, "mouthShrugLower")
    upper_inner = _curve(right_corner, left_corner, upper_inner_mid - mid_corner)
    lower_inner = _curve(right_corner, left_corner, lower_inner_mid - mid_corner)
    upper_outer = _curve(right_corner, left_corner, upper_inner_mid - t_up - mid_corner, bow=0.018)
    lower_outer = _curve(right_corner, left_corner, lower_inner_mid + t_low - mid_corner)
    tongue = np.array([shift, lower_inner_mid - 0.02 + 0.12 * _w(w, "tongueOut")])
    mouth = {"corners": np.stack([right_corner, left_corner]), "upper_outer": upper_outer, "upper_inner": upper_inner,
             "lower_inner": lower_inner, "lower_outer": lower_outer, "gap": gap, "tongue": tongue,
             "tongue_out": _w(w, "tongueOut")}
    return {"outline": outline, "chin": chin, "brows": brows, "eyes": eyes, "mouth": mouth, "cheeks": cheeks,
            "nostrils": nostrils, "sneer": sneer}


class FaceRenderer:
    """Draws :func:`face_geometry` with OpenCV: one (H, W, 3) uint8 RGB frame per blendshape frame.

    Implements :class:`avs.protocols.Renderer` (``size``, ``frames``).

    Args:
        size: (height, width) in pixels (at least 64 × 64).
        label: draw the emotion heard (``motion.extras["emotion_probs"]``) in a corner.

    Raises:
        AvsError: a size below 64 pixels.
    """

    def __init__(self, size: tuple[int, int] = (512, 512), label: bool = True) -> None:
        height, width = int(size[0]), int(size[1])
        if height < 64 or width < 64:
            raise AvsError(f"render size must be at least 64x64 pixels, got {width}x{height}")
        self.size = (height, width)
        self.label = label
        self.scale = 0.40 * min(height, width)  # pixels per face unit
        self.origin = np.array([width / 2.0, height * 0.47])
        self.background = np.empty((height, width, 3), np.uint8)
        self.background[:] = BACKGROUND

    # ------------------------------------------------------------------ helpers

    def _px(self, points: np.ndarray) -> np.ndarray:
        """Face units → fixed-point pixel coordinates for cv2 (``shift`` = 4)."""
        p = np.asarray(points, np.float64) * self.scale + self.origin
        return np.round(p * (1 << _SHIFT)).astype(np.int32)

    def _len(self, units: float) -> int:
        return max(1, int(round(units * self.scale)))

    def _fill(self, img: np.ndarray, points: np.ndarray, color: tuple[int, int, int]) -> None:
        cv2.fillPoly(img, [self._px(points).reshape(-1, 1, 2)], color, cv2.LINE_AA, _SHIFT)

    def _line(self, img: np.ndarray, points: np.ndarray, color: tuple[int, int, int], width: float,
              closed: bool = False) -> None:
        cv2.polylines(img, [self._px(points).reshape(-1, 1, 2)], closed, color, self._len(width), cv2.LINE_AA, _SHIFT)

    def _ellipse(self, img: np.ndarray, centre: np.ndarray, axes: np.ndarray, color: tuple[int, int, int],
                 thickness: int = -1) -> None:
        c = tuple(int(v) for v in self._px(centre))
        a = tuple(int(round(v * self.scale * (1 << _SHIFT))) for v in axes)
        cv2.ellipse(img, c, a, 0, 0, 360, color, thickness, cv2.LINE_AA, _SHIFT)

    def _blend_ellipse(self, img: np.ndarray, centre: np.ndarray, axes: np.ndarray, color: tuple[int, int, int],
                       alpha: float) -> None:
        roi = self._roi(centre - axes, centre + axes)
        if roi is None:
            return
        (y0, y1), (x0, x1) = roi
        patch = img[y0:y1, x0:x1]
        overlay = patch.copy()
        c = self._px(centre) - (np.array([x0, y0]) << _SHIFT)
        a = tuple(int(round(v * self.scale * (1 << _SHIFT))) for v in axes)
        cv2.ellipse(overlay, (int(c[0]), int(c[1])), a, 0, 0, 360, color, -1, cv2.LINE_AA, _SHIFT)
        cv2.addWeighted(overlay, alpha, patch, 1 - alpha, 0, dst=patch)

    def _roi(self, lo: np.ndarray, hi: np.ndarray) -> tuple[tuple[int, int], tuple[int, int]] | None:
        """Pixel rows and columns covering face-unit box [lo, hi] (2 px margin), clipped; None if empty."""
        p0 = np.floor(np.asarray(lo) * self.scale + self.origin).astype(int) - 2
        p1 = np.ceil(np.asarray(hi) * self.scale + self.origin).astype(int) + 3
        x0, y0 = max(p0[0], 0), max(p0[1], 0)
        x1, y1 = min(p1[0], self.size[1]), min(p1[1], self.size[0])
        if x1 <= x0 or y1 <= y0:
            return None
        return (int(y0), int(y1)), (int(x0), int(x1))

    # ------------------------------------------------------------------ drawing

    def draw(self, weights: np.ndarray, probs: np.ndarray | None = None) -> np.ndarray:
        """One (H, W, 3) uint8 RGB frame for (52,) weights (and optional (8,) emotion probabilities)."""
        g = face_geometry(weights)
        img = self.background.copy()
        for sign in (-1.0, 1.0):  # ears
            self._ellipse(img, np.array([sign * 0.93, 0.05]), np.array([0.09, 0.19]), SKIN)
            self._ellipse(img, np.array([sign * 0.93, 0.05]), np.array([0.09, 0.19]), SKIN_LINE, self._len(0.012))
        self._fill(img, g["outline"], SKIN)
        top = g["outline"][48:]
        top = top[top[:, 1] < -0.38]  # cranium above the hairline's ends, left → right
        hairline = _curve(np.array([top[-1, 0], -0.38]), np.array([top[0, 0], -0.38]), -0.26)
        self._fill(img, np.concatenate([top, hairline]), HAIR)
        self._line(img, g["outline"], SKIN_LINE, 0.014, closed=True)
        for side in ("right", "left"):
            centre, axes = g["cheeks"][side]
            self._blend_ellipse(img, centre, axes, CHEEK, 0.45)
        self._draw_nose(img, g)
        for side in ("right", "left"):
            self._draw_eye(img, g["eyes"][side])
            self._line(img, g["brows"][side], BROW, 0.045)
        self._draw_mouth(img, g["mouth"])
        if self.label and probs is not None and np.asarray(probs).size == len(EMOTIONS):
            k = int(np.argmax(probs))
            text = f"heard: {EMOTIONS[k]} {float(probs[k]):.2f}"
            cv2.putText(img, text, (8, self.size[0] - 10), cv2.FONT_HERSHEY_SIMPLEX, 0.45 * self.size[0] / 512,
                        (60, 60, 60), 1, cv2.LINE_AA)
        return img

    def _draw_nose(self, img: np.ndarray, g: dict[str, Any]) -> None:
        self._line(img, np.array([[-0.04, 0.02], [-0.07, 0.24]]), SKIN_LINE, 0.012)
        self._line(img, np.array([[0.04, 0.02], [0.07, 0.24]]), SKIN_LINE, 0.012)
        for side in ("right", "left"):
            self._ellipse(img, g["nostrils"][side], np.array([0.04, 0.022]), SKIN_LINE)
        if g["sneer"] > 0.05:
            strength = min(1.0, g["sneer"])
            for dy in (0.04, 0.09):
                for sign in (-1.0, 1.0):
                    self._line(img, np.array([[sign * 0.05, dy], [sign * (0.05 + 0.07 * strength), dy - 0.03]]),
                               SKIN_LINE, 0.008)

    def _draw_eye(self, img: np.ndarray, eye: dict[str, Any]) -> None:
        polygon = np.concatenate([eye["upper"], eye["lower"][::-1]])
        self._fill(img, polygon, EYE_WHITE)
        # iris and pupil, clipped to the eye opening
        roi = self._roi(polygon.min(0), polygon.max(0))
        if roi is not None:
            (y0, y1), (x0, x1) = roi
            offset = np.array([x0, y0]) << _SHIFT
            patch = img[y0:y1, x0:x1]
            mask = np.zeros(patch.shape[:2], np.uint8)
            cv2.fillPoly(mask, [(self._px(polygon) - offset).reshape(-1, 1, 2)], 255, cv2.LINE_AA, _SHIFT)
            layer = patch.copy()
            c = self._px(eye["iris"]) - offset
            for radius, color in ((eye["iris_r"], IRIS), (eye["iris_r"] * 0.45, PUPIL)):
                cv2.circle(layer, (int(c[0]), int(c[1])), int(round(radius * self.scale * (1 << _SHIFT))), color, -1,
                           cv2.LINE_AA, _SHIFT)
            alpha = (mask.astype(np.float32) / 255.0)[..., None]
            patch[:] = (layer * alpha + patch * (1 - alpha) + 0.5).astype(np.uint8)
        self._line(img, eye["upper"], LID, 0.022)
        self._line(img, eye["lower"], SKIN_LINE, 0.010)

    def _draw_mouth(self, img: np.ndarray, m: dict[str, Any]) -> None:
        upper = np.concatenate([m["upper_outer"], m["upper_inner"][::-1]])
        lower = np.concatenate([m["lower_inner"], m["lower_outer"][::-1]])
        if m["gap"] > 0.005:
            inside = np.concatenate([m["upper_inner"], m["lower_inner"][::-1]])
            self._fill(img, inside, MOUTH_INSIDE)
            teeth = np.concatenate([m["upper_inner"], (m["upper_inner"] + [0.0, min(0.04, m["gap"] * 0.5)])[::-1]])
            self._fill(img, teeth, TEETH)
        if m["gap"] > 0.02 or m["tongue_out"] > 0.05:
            self._ellipse(img, m["tongue"], np.array([0.11, 0.05 + 0.03 * m["tongue_out"]]), TONGUE)
        self._fill(img, upper, LIPS)
        self._fill(img, lower, LIPS)
        self._line(img, upper, LIP_LINE, 0.010, closed=True)
        self._line(img, lower, LIP_LINE, 0.010, closed=True)

    def frames(self, motion: Motion) -> Iterator[np.ndarray]:
        """Yield exactly ``motion.num_frames`` (H, W, 3) uint8 RGB frames.

        Raises:
            AvsError: the motion is not (T, 52) blendshapes.
        """
        data = np.asarray(motion.data)
        if motion.kind != "blendshapes" or data.ndim != 2 or data.shape[1] != NUM_BLENDSHAPES:
            raise AvsError(f"the face renderer draws (T, {NUM_BLENDSHAPES}) blendshapes, got kind {motion.kind!r} "
                           f"shape {data.shape}")
        probs = motion.extras.get("emotion_probs")
        if probs is not None and (np.asarray(probs).ndim != 2 or len(probs) != len(data)):
            probs = None
        for i in range(len(data)):
            yield self.draw(data[i], None if probs is None else np.asarray(probs[i]))


def build_renderer(cfg: Any, stats: Any) -> FaceRenderer:
    """``(cfg, stats) -> Renderer``: a :class:`FaceRenderer` of ``(cfg.render.height, cfg.render.width)``."""
    return FaceRenderer((int(cfg.render.height), int(cfg.render.width)))


def render_examples(G: Any, dataset: Any, cfg: Any, stats: Any, n: int, out_dir: Any) -> list[Any]:
    """``Method.render_examples``: videos of ``n`` clips (evenly spread over the split), prediction |
    ground truth side by side, with the clip's audio; the prediction is post-processed as ``avs predict``
    does. Files: ``<out_dir>/<clip stem>.mp4``.

    Raises:
        AvsError: ``n`` < 1 or an empty split.
    """
    from pathlib import Path

    from avs.api import fit_length, frames_for_duration, side_by_side, write_video
    from avs_emotalk.data import output_offset
    from avs_emotalk.inference import postprocess, predict_raw

    if n < 1 or len(dataset.clips) == 0:
        raise AvsError("render_examples needs n >= 1 and a non-empty split")
    out_dir = Path(out_dir)
    renderer = build_renderer(cfg, stats)
    written = []
    for k in sorted({int(i) for i in np.linspace(0, len(dataset.clips) - 1, min(n, len(dataset.clips))).round()}):
        clip, audio, gt = dataset.clips[k], dataset.audio(k), dataset.blendshapes(k)
        weights, probs = predict_raw(G, audio, cfg, -1, clip.level, clip.person, offset=output_offset(stats))
        total = frames_for_duration(audio.size / 16000, 30.0)
        pred = fit_length(Motion("blendshapes", postprocess(weights, cfg), 30.0, {"emotion_probs": probs}), total)
        truth = fit_length(Motion("blendshapes", gt, 30.0), total)
        frames = side_by_side(renderer.frames(pred), FaceRenderer(renderer.size, label=False).frames(truth), gap=8)
        written.append(write_video(out_dir / f"{clip.wav.stem}.mp4", frames, 30.0, total, audio=audio,
                                   sample_rate=16000))
    return written
