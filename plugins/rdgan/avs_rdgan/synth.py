"""A small, learnable synthetic face set in the prepared-face-data layout (``avs data synth rdgan DIR``).

The speech is real (the repository's bundled LibriVox recordings, cut into 3 s clips); the faces are
drawn: a cartoon head (skin ellipse, eyes with pupils, brows, nose, lips) on a plain background, each
clip with its own skin colour, face size and position. Its 68 landmarks (dlib layout) come from the same
parametric face, so edge maps and frames agree exactly. The mouth opening follows the speech's
loudness (RMS per 40 ms frame, −45…−15 dBFS mapped to closed…open, smoothed over 3 frames) and the jaw
drops with it; eyes blink every 1.6–3.2 s; the head drifts by a few pixels. So a model can learn both
halves of RD-GAN here: edge map → face, and audio → landmark displacements.

Layout (as ``avs data prepare face`` writes it; ``track.npz`` holds only ``valid``, ``lm68``, ``box``)::

    DIR/index.json              format avs-face-data, fps 25, sample_rate 16000, videos + splits
    DIR/<clip>/frames.mp4       160×160, 25 fps, H.264 crf 12
    DIR/<clip>/audio.wav        16 kHz mono, 640 samples per frame
    DIR/<clip>/track.npz        valid (T,), lm68 (T, 68, 2) float32 pixels, box (T, 4)
    DIR/<clip>/meta.json

Splits per clip (75 frames): train [0, 55), dev [55, 65), test [65, 75).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from avs.api import AvsError, load_speech_sources, staged_directory, write_wav

SIZE = 160
FPS = 25
SAMPLE_RATE = 16000
CLIP_FRAMES = 75
SPLIT = {"train": [0, 55], "dev": [55, 65], "test": [65, 75]}


def mouth_opening(audio: np.ndarray, num_frames: int) -> np.ndarray:
    """Opening in [0, 1] per 25 fps frame from the RMS level (−45 dBFS closed … −15 dBFS open)."""
    hop = SAMPLE_RATE // FPS
    frames = np.pad(audio, (0, max(0, num_frames * hop - audio.size)))[: num_frames * hop].reshape(num_frames, hop)
    db = 10 * np.log10(np.mean(frames.astype(np.float64) ** 2, axis=1) + 1e-10)
    open_ = np.clip((db + 45.0) / 30.0, 0.0, 1.0)
    pad = np.pad(open_, 1, mode="edge")
    return ((pad[:-2] + pad[1:-1] + pad[2:]) / 3.0).astype(np.float32)


def face_landmarks(cx: float, cy: float, a: float, b: float, opening: float, blink: float) -> np.ndarray:
    """68 landmarks (dlib layout) of the cartoon face.

    Args:
        cx, cy: face centre in pixels; a, b: half-width and half-height of the head ellipse.
        opening: mouth opening in [0, 1]; blink: eye closure in [0, 1].

    Returns:
        (68, 2) float32 pixels.
    """
    lm = np.zeros((68, 2), np.float64)
    drop = 0.18 * b * opening  # jaw drop
    th = np.pi - np.arange(17) * np.pi / 16
    lm[0:17] = np.stack([cx + a * np.cos(th), cy + (b + drop) * np.sin(th)], 1)
    bx = np.linspace(0.75, 0.15, 5)
    arc = 0.06 * b * np.sin(np.linspace(0, np.pi, 5))
    lm[17:22] = np.stack([cx - a * bx, cy - 0.42 * b - arc], 1)
    lm[22:27] = np.stack([cx + a * bx[::-1], cy - 0.42 * b - arc[::-1]], 1)
    lm[27:31] = np.stack([np.full(4, cx), cy + np.linspace(-0.3, 0.08, 4) * b], 1)
    nx = np.linspace(-0.18, 0.18, 5) * a
    lm[31:36] = np.stack([cx + nx, cy + 0.15 * b + 0.03 * b * (1 - (nx / (0.18 * a)) ** 2)], 1)
    phi = np.array([np.pi, 2 * np.pi / 3, np.pi / 3, 0, -np.pi / 3, -2 * np.pi / 3])
    eh = 0.075 * b * (1.0 - 0.9 * blink)
    for start, ex in ((36, cx - 0.4 * a), (42, cx + 0.4 * a)):
        lm[start:start + 6] = np.stack([ex + 0.17 * a * np.cos(phi), cy - 0.22 * b - eh * np.sin(phi)], 1)
    mx, my, mw = cx, cy + 0.5 * b + 0.5 * drop, 0.34 * a
    half_open = 0.16 * b * opening
    lip = 0.06 * b
    outer = np.concatenate([[np.pi], np.pi - np.arange(1, 6) * np.pi / 6, [0.0], -np.arange(1, 6) * np.pi / 6])
    lm[48:60] = np.stack([mx + mw * np.cos(outer), my - (lip + half_open) * np.sin(outer)], 1)
    inner = np.array([np.pi, 3 * np.pi / 4, np.pi / 2, np.pi / 4, 0.0, -np.pi / 4, -np.pi / 2, -3 * np.pi / 4])
    lm[60:68] = np.stack([mx + 0.8 * mw * np.cos(inner), my - (half_open + 0.5) * np.sin(inner)], 1)
    return lm.astype(np.float32)


def draw_face(lm: np.ndarray, skin: tuple[int, int, int], background: tuple[int, int, int],
              cx: float, cy: float, a: float, b: float) -> np.ndarray:
    """(SIZE, SIZE, 3) uint8 RGB cartoon face drawn to match its landmarks."""
    import cv2

    img = np.empty((SIZE, SIZE, 3), np.uint8)
    img[:] = background
    p = lambda idx: np.rint(lm[list(idx)] * 4).astype(np.int32).reshape(-1, 1, 2)  # noqa: E731 (4× sub-pixel)
    aa, shift = cv2.LINE_AA, 2
    top = np.linspace(0, np.pi, 17)
    head = np.concatenate([lm[0:17], np.stack([cx + a * np.cos(top), cy - b * 1.15 * np.sin(top)], 1)])
    cv2.fillPoly(img, [np.rint(head * 4).astype(np.int32)], skin, aa, shift)
    dark = tuple(int(v * 0.45) for v in skin)
    for idx in (range(17, 22), range(22, 27)):
        cv2.polylines(img, [p(idx)], False, (60, 40, 30), 2, aa, shift)
    cv2.polylines(img, [p(range(27, 31))], False, dark, 1, aa, shift)
    cv2.polylines(img, [p(range(31, 36))], False, dark, 1, aa, shift)
    for start in (36, 42):
        cv2.fillPoly(img, [p(range(start, start + 6))], (245, 245, 245), aa, shift)
        c = lm[start:start + 6].mean(0)
        r = max(1, int(round(min(3.0, (lm[start + 4, 1] - lm[start + 2, 1]) * 0.45))))
        cv2.circle(img, (int(round(c[0] * 4)), int(round(c[1] * 4))), r * 4, (40, 30, 20), -1, aa, shift)
        cv2.polylines(img, [p(range(start, start + 6))], True, (50, 35, 30), 1, aa, shift)
    cv2.fillPoly(img, [p(range(48, 60))], (170, 60, 70), aa, shift)
    cv2.fillPoly(img, [p(range(60, 68))], (60, 15, 20), aa, shift)
    return img


def synthesize(root: Path, cfg: Any = None, seed: int = 0) -> str:
    """Write the synthetic set (module docstring) atomically; return a one-line summary.

    Raises:
        AvsError: ``root`` exists and is not empty; no bundled speech.
    """
    from avs.api import write_video

    rng = np.random.default_rng(seed)
    sources = load_speech_sources(None, SAMPLE_RATE, min_seconds=CLIP_FRAMES / FPS)
    hop = SAMPLE_RATE // FPS
    clips = []
    for audio in sources.values():
        for k in range(min(2, audio.size // (CLIP_FRAMES * hop))):
            clips.append(audio[k * CLIP_FRAMES * hop:(k + 1) * CLIP_FRAMES * hop])
    if not clips:
        raise AvsError("no speech to build the synthetic face set from")
    videos = []
    with staged_directory(root) as tmp:
        for n, audio in enumerate(clips):
            name = f"synth_{n:02d}"
            folder = tmp / name
            folder.mkdir()
            skin = tuple(int(v) for v in rng.integers([150, 110, 80], [240, 190, 160]))
            background = tuple(int(v) for v in rng.integers(20, 90, 3))
            a, b = float(rng.uniform(40, 50)), float(rng.uniform(52, 62))
            cx0, cy0 = SIZE / 2 + rng.uniform(-6, 6), SIZE / 2 + rng.uniform(-4, 4)
            opening = mouth_opening(audio, CLIP_FRAMES)
            blink = np.zeros(CLIP_FRAMES)
            t = int(rng.integers(10, 40))
            while t < CLIP_FRAMES:
                blink[t:t + 3] = [0.5, 1.0, 0.5][: len(blink[t:t + 3])]
                t += int(rng.integers(40, 80))
            drift = np.cumsum(rng.normal(0, 0.3, (CLIP_FRAMES, 2)), 0)
            lm68 = np.stack([face_landmarks(cx0 + drift[i, 0], cy0 + drift[i, 1], a, b, opening[i], blink[i])
                             for i in range(CLIP_FRAMES)])
            frames = [draw_face(lm68[i], skin, background, cx0 + drift[i, 0], cy0 + drift[i, 1], a, b)
                      for i in range(CLIP_FRAMES)]
            write_video(folder / "frames.mp4", frames, FPS, CLIP_FRAMES, crf=12)
            write_wav(folder / "audio.wav", audio, SAMPLE_RATE)
            box = np.concatenate([lm68.min(1), lm68.max(1)], 1).astype(np.float32)
            with open(folder / "track.npz", "wb") as fh:
                np.savez(fh, valid=np.ones(CLIP_FRAMES, bool), lm68=lm68, box=box)
            (folder / "meta.json").write_text(json.dumps({
                "fps": FPS, "width": SIZE, "height": SIZE, "num_frames": CLIP_FRAMES, "source": "avs_rdgan.synth",
                "faces_found": CLIP_FRAMES}, indent=1))
            videos.append({"name": name, "num_frames": CLIP_FRAMES, "split": SPLIT})
        (tmp / "index.json").write_text(json.dumps({"format": "avs-face-data", "version": 1, "fps": FPS,
                                                    "sample_rate": SAMPLE_RATE, "videos": videos}, indent=1))
    return (f"{len(videos)} synthetic talking-face clips of {CLIP_FRAMES} frames (25 fps, 160×160) with real "
            f"speech and 68 landmarks in {root}")
