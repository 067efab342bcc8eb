"""Files written beside the preview video: ``.npy``, Live Link Face ``.csv``, a curve plot ``.png``, ``.json``.

- ``.npy``: (T, 52) float32 ARKit weights at 30 fps in EmoTalk's channel order (what the reference
  demo saves);
- ``.csv``: the column layout of a Live Link Face take export (Epic Games' iOS app, read by Unreal's
  LiveLinkFace importer and MetaHuman tools): ``Timecode`` (``HH:MM:SS:FF.mmm``, FF the frame within the
  second at 30 fps), ``BlendShapeCount`` (52), then the 52 names in PascalCase in the app's (ARKit's
  face-anchor) order. The app adds 9 head/eye rotation columns; we have no head motion and leave them out;
- ``.png``: the curves over time (matplotlib): a heat map of all 52 channels and the main
  mouth/eye/brow curves;
- ``.json``: frame rate, names, and the emotion the emotion head heard (from ``emotion_probs``).

Each file is written to a temporary file and renamed, so a failure never leaves half a file.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np

from avs.api import AvsError, Motion, atomic_path
from avs_emotalk.arkit import ARKIT_NAMES, EMOTIONS, INDEX, LIVE_LINK_ORDER, NUM_BLENDSHAPES

PLOT_CHANNELS = ("jawOpen", "mouthSmileLeft", "mouthSmileRight", "mouthFunnel", "eyeBlinkLeft", "eyeBlinkRight",
                 "browInnerUp", "browDownLeft", "eyeWideLeft", "noseSneerLeft")
"""Curves drawn as lines in the PNG."""


def _weights(motion: Motion) -> np.ndarray:
    data = np.asarray(motion.data)
    if motion.kind != "blendshapes" or data.ndim != 2 or data.shape[1] != NUM_BLENDSHAPES:
        raise AvsError(f"expected blendshapes of shape (T, {NUM_BLENDSHAPES}), got kind {motion.kind!r} "
                       f"shape {data.shape}")
    return data.astype(np.float32)


def live_link_timecode(frame: int, fps: float = 30.0) -> str:
    """Live Link Face timecode of a frame: ``HH:MM:SS:FF.mmm`` (FF = frame within the second, .mmm its
    sub-frame fraction, 0 here)."""
    rate = int(round(fps))
    seconds, ff = divmod(int(frame), rate)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h:02d}:{m:02d}:{s:02d}:{ff:02d}.000"


def live_link_header() -> list[str]:
    """``Timecode``, ``BlendShapeCount`` and the 52 names (PascalCase, Live Link Face order)."""
    return ["Timecode", "BlendShapeCount"] + [n[0].upper() + n[1:] for n in LIVE_LINK_ORDER]


def write_npy(motion: Motion, path: str | Path) -> Path:
    """Write the (T, 52) float32 weights to ``path`` (.npy), atomically.

    Raises:
        AvsError: the motion is not (T, 52) blendshapes.
    """
    data = _weights(motion)
    path = Path(path)
    with atomic_path(path, suffix=".npy") as tmp:
        with open(tmp, "wb") as fh:
            np.save(fh, data)
    return path


def write_live_link_csv(motion: Motion, path: str | Path) -> Path:
    """Write the weights as a Live Link Face CSV (module docstring), atomically.

    Raises:
        AvsError: the motion is not (T, 52) blendshapes.
    """
    data = _weights(motion)
    order = [INDEX[n] for n in LIVE_LINK_ORDER]
    path = Path(path)
    with atomic_path(path, suffix=".csv") as tmp:
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(live_link_header())
            for i, row in enumerate(data[:, order]):
                writer.writerow([live_link_timecode(i, motion.fps), NUM_BLENDSHAPES] + [f"{v:.6f}" for v in row])
    return path


def read_live_link_csv(path: str | Path) -> np.ndarray:
    """Read a Live Link Face CSV back into (T, 52) float32 weights in EmoTalk's channel order (for tests
    and round trips); extra columns (head/eye rotations) are ignored.

    Raises:
        AvsError: missing file, or a blendshape column missing.
    """
    path = Path(path)
    if not path.is_file():
        raise AvsError(f"CSV not found: {path}")
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    header = {name.lower(): k for k, name in enumerate(rows[0])} if rows else {}
    missing = [n for n in ARKIT_NAMES if n.lower() not in header]
    if missing:
        raise AvsError(f"{path} lacks blendshape column(s) {', '.join(missing[:3])}")
    cols = [header[n.lower()] for n in ARKIT_NAMES]
    return np.asarray([[float(r[c]) for c in cols] for r in rows[1:]], dtype=np.float32).reshape(-1, NUM_BLENDSHAPES)


def write_plot(motion: Motion, path: str | Path, title: str = "") -> Path:
    """Plot the curves to a PNG (matplotlib, Agg): all 52 channels as a heat map over time (s) and the
    :data:`PLOT_CHANNELS` as lines. Written atomically.

    Raises:
        AvsError: the motion is not (T, 52) blendshapes.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    data = _weights(motion)
    t = np.arange(data.shape[0]) / motion.fps
    fig = Figure(figsize=(12, 9), dpi=100, layout="constrained")
    ax_map, ax_lines = fig.subplots(2, 1, height_ratios=(3, 2), sharex=True)
    extent = (0.0, max(t[-1], 1.0 / motion.fps), NUM_BLENDSHAPES - 0.5, -0.5)
    image = ax_map.imshow(data.T, aspect="auto", interpolation="nearest", cmap="magma", vmin=0.0, vmax=1.0,
                          extent=extent)
    ax_map.set_yticks(range(NUM_BLENDSHAPES), ARKIT_NAMES, fontsize=5)
    ax_map.set_title(title or f"EmoTalk blendshapes ({data.shape[0]} frames at {motion.fps:g} fps)")
    fig.colorbar(image, ax=ax_map, label="weight")
    for name in PLOT_CHANNELS:
        ax_lines.plot(t, data[:, INDEX[name]], label=name, linewidth=1.0)
    ax_lines.set_xlabel("time (s)")
    ax_lines.set_ylabel("weight")
    ax_lines.set_ylim(-0.05, 1.05)
    ax_lines.legend(fontsize=7, ncol=5, loc="upper right")
    path = Path(path)
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png")
    return path


def write_json(motion: Motion, path: str | Path, cfg: Any = None) -> Path:
    """Write metadata: fps, frame count, names, the controls used and the emotion heard (mean of
    ``motion.extras["emotion_probs"]`` when present). Written atomically."""
    data = _weights(motion)
    info: dict[str, Any] = {"fps": motion.fps, "frames": int(data.shape[0]), "blendshapes": list(ARKIT_NAMES)}
    if cfg is not None:
        info["controls"] = {"emotion": str(cfg.emotion), "level": int(cfg.level), "person": int(cfg.person),
                            "emotion_audio": str(cfg.infer.emotion_audio or "") or None,
                            "smooth": bool(cfg.infer.smooth), "blinks": bool(cfg.infer.blinks)}
    probs = motion.extras.get("emotion_probs")
    if probs is not None and np.asarray(probs).ndim == 2 and np.asarray(probs).shape[1] == len(EMOTIONS):
        mean = np.asarray(probs, np.float64).mean(0)
        info["emotion_heard"] = {"emotion": EMOTIONS[int(mean.argmax())],
                                 "probabilities": {e: round(float(p), 4) for e, p in zip(EMOTIONS, mean, strict=True)}}
    path = Path(path)
    with atomic_path(path, suffix=".json") as tmp:
        tmp.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return path


def export_motion(motion: Motion, video_path: str | Path, cfg: Any = None) -> list[Path]:
    """``Method.export_motion``: write ``<video stem>.npy``, ``.csv``, ``.png`` and ``.json`` beside the video.

    Returns:
        the four paths.

    Raises:
        AvsError: the motion is not (T, 52) blendshapes (checked before anything is written).
    """
    _weights(motion)
    base = Path(video_path)
    return [write_npy(motion, base.with_suffix(".npy")), write_live_link_csv(motion, base.with_suffix(".csv")),
            write_plot(motion, base.with_suffix(".png")), write_json(motion, base.with_suffix(".json"), cfg)]
