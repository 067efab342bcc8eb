"""Does the bundled gesture model draw a body? Contact sheet + plausibility numbers on held-out speech.

For each checkpoint: ``avs predict <plugin> AUDIO --checkpoint C --save-npz`` (the CLI, as a user
runs it), then

- a contact sheet: ``--frames`` frames spread evenly over the prediction, one view for all, in a grid;
- ``bone_cv_body`` / ``bone_cv_hands``: mean coefficient of variation of bone lengths over time
  (:func:`avs.metrics.skeleton.bone_length_variation`; a rigid skeleton keeps it near 0);
- ``finger_crossing``: fraction of frames in which two finger segments of one hand cross
  (:func:`avs.metrics.skeleton.finger_crossing_rate`);
- ``wrist_motion``: mean frame-to-frame displacement of the two wrists in shoulder widths (does it move?).

The same numbers for the synthetic ground truth of that audio (the plugin's ``audio_to_pose``,
without noise) are printed as the ``ground-truth`` row.

Run: .venv/bin/python benchmarks/bench_looks.py s2g --checkpoint C [C ...] --audio speech.wav --sheet out.png
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def layout(plugin: str) -> tuple[list, list, list, list]:
    """(edges, colours, body edges, hands as finger chains) of a plugin's keypoint layout."""
    if plugin == "s2g":
        from avs_s2g import skeleton as sk

        body = sk.RIGHT_BODY_EDGES + sk.LEFT_BODY_EDGES
        hands = [[sk.left_finger(f) for f in range(5)], [sk.right_finger(f) for f in range(5)]]
        return list(sk.EDGES), list(sk.EDGE_COLORS), body, hands
    if plugin == "sdt":
        from avs_sdt import keypoints as kp

        edges, colors, _ = kp.skeleton_137()
        hands = [[(s, *range(s + 1 + 4 * f, s + 5 + 4 * f)) for f in range(5)]
                 for s in (kp.LEFT_HAND_START_137, kp.RIGHT_HAND_START_137)]
        return edges, colors, list(kp.BODY_EDGES_137), hands
    raise SystemExit(f"unknown plugin {plugin}")


def ground_truth(plugin: str, audio: np.ndarray) -> np.ndarray:
    """(T, K, 2) the synthetic set's pose function on ``audio`` (no noise)."""
    if plugin == "s2g":
        from avs_s2g.synth import audio_to_pose

        return audio_to_pose(audio)
    from avs_sdt.synth import SPEAKERS, audio_to_pose

    pose = audio_to_pose(audio, SPEAKERS["speaker_a"], (0.0, 0.0))
    keypoints = pose[:, :2].swapaxes(1, 2).astype(np.float64)
    keypoints[pose[:, 2] <= 0] = np.nan  # confidence 0: not in the synthetic body (legs, ...), as predictions
    return keypoints


WRISTS = {"s2g": (3, 6), "sdt": (4, 7)}
SHOULDERS = {"s2g": (1, 4), "sdt": (2, 5)}


def scores(plugin: str, keypoints: np.ndarray) -> dict[str, float]:
    from avs.metrics.skeleton import bone_length_variation, finger_crossing_rate

    _, _, body, hands = layout(plugin)
    a, b = SHOULDERS[plugin]
    width = float(np.nanmedian(np.linalg.norm(keypoints[:, a] - keypoints[:, b], axis=-1)))
    wrists = keypoints[:, list(WRISTS[plugin])]
    motion = float(np.nanmean(np.linalg.norm(np.diff(wrists, axis=0), axis=-1))) / width
    hand_edges = [(a, b) for fingers in hands for chain in fingers for a, b in zip(chain[:-1], chain[1:], strict=True)]
    return {"bone_cv_body": round(bone_length_variation(keypoints, body), 4),
            "bone_cv_hands": round(bone_length_variation(keypoints, hand_edges), 4),
            "finger_crossing": round(finger_crossing_rate(keypoints, hands), 4),
            "wrist_motion": round(motion, 4)}


def sheet(plugin: str, keypoints: np.ndarray, frames: int, label: str,
          tile: tuple[int, int] = (360, 360)) -> np.ndarray:
    """(H, W, 3) uint8: ``frames`` frames in a row of tiles, labelled."""
    import cv2

    from avs.render import SkeletonRenderer

    edges, colors, _, _ = layout(plugin)
    renderer = SkeletonRenderer(edges, colors, size=tile, line_width=2, joint_radius=0)
    used = sorted({k for edge in edges for k in edge})
    view = renderer.fit(keypoints[:, used])
    picks = np.linspace(0, len(keypoints) - 1, frames).round().astype(int)
    row = np.concatenate([renderer.render_frame(keypoints[i], view) for i in picks], axis=1)
    cv2.putText(row, label, (8, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (40, 40, 40), 2, cv2.LINE_AA)
    return row


def predict(plugin: str, checkpoint: Path, audio: Path, tmp: Path) -> np.ndarray:
    out = tmp / f"{checkpoint.stem}.mp4"
    subprocess.run([str(Path(sys.executable).parent / "avs"), "predict", plugin, str(audio), "--checkpoint",
                    str(checkpoint), "--out", str(out), "--save-npz"], check=True, capture_output=True)
    return np.load(out.with_suffix(".npz"))["keypoints"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("plugin", choices=["s2g", "sdt"])
    parser.add_argument("--checkpoint", type=Path, nargs="+", required=True)
    parser.add_argument("--label", nargs="*", help="one label per checkpoint (default: file names)")
    parser.add_argument("--audio", type=Path, required=True, help="held-out speech")
    parser.add_argument("--sheet", type=Path, required=True, help="contact sheet .png")
    parser.add_argument("--frames", type=int, default=8)
    args = parser.parse_args()

    import imageio.v3 as iio

    from avs.audio import load_audio

    labels = args.label or [c.name for c in args.checkpoint]
    rows = []
    audio = load_audio(args.audio, 16000)
    gt = ground_truth(args.plugin, audio)
    print(json.dumps({"bench": "looks", "plugin": args.plugin, "model": "ground-truth", **scores(args.plugin, gt)}))
    with tempfile.TemporaryDirectory() as tmp:
        for checkpoint, label in zip(args.checkpoint, labels, strict=True):
            keypoints = predict(args.plugin, checkpoint, args.audio, Path(tmp))
            print(json.dumps({"bench": "looks", "plugin": args.plugin, "model": label,
                              **scores(args.plugin, keypoints)}), flush=True)
            rows.append(sheet(args.plugin, keypoints, args.frames, label))
    rows.append(sheet(args.plugin, gt, args.frames, "synthetic ground truth (current synth)"))
    args.sheet.parent.mkdir(parents=True, exist_ok=True)
    iio.imwrite(args.sheet, np.concatenate(rows, axis=0))


if __name__ == "__main__":
    main()
