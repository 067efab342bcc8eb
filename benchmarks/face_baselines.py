"""The face-image metric suite on a prepared face data set: ground truth and the two baselines.

    python benchmarks/face_baselines.py DATA [--split test] [--size 256]   (prints a Markdown table)
"""

from __future__ import annotations

import argparse
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--split", default="test")
    parser.add_argument("--size", type=int, default=256)
    args = parser.parse_args()
    from avs.face import FACE_IMAGE_DIRECTIONS, face_image_baseline_rows, real_clips

    clips = real_clips(args.data, args.split, args.size)
    rows = face_image_baseline_rows(clips)
    cols = [c for c in FACE_IMAGE_DIRECTIONS if c in rows["ground truth"]]
    print(f"{len(clips.real)} clips, {sum(len(r) for r in clips.real)} frames, {args.size}² crops, split {args.split}")
    print("| row | " + " | ".join(f"{c} {'↑' if FACE_IMAGE_DIRECTIONS[c] else '↓'}" for c in cols) + " |")
    print("|---|" + "---|" * len(cols))
    for name, m in rows.items():
        print(f"| {name} | " + " | ".join(f"{m[c]:.3f}" for c in cols) + " |")


if __name__ == "__main__":
    main()
