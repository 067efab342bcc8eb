"""Contact sheet of a prepared face data set: per video, a row of aligned crops with landmarks drawn.

    python scripts/face_contact_sheet.py DATA OUT.png [--per-video 6] [--size 192]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np


def contact_sheet(root: Path, per_video: int, size: int) -> np.ndarray:
    import cv2

    from avs.face import aligned_crop, draw_landmarks, open_face_data, square_box

    rows = []
    for video in open_face_data(root).videos:
        track = video.track
        valid = np.flatnonzero(track["valid"])
        picks = valid[np.linspace(0, len(valid) - 1, per_video).round().astype(int)] if len(valid) else []
        tiles = []
        for i in picks:
            frame = video.read_frames(int(i), int(i) + 1)[0]
            crop, A = aligned_crop(frame, square_box(track["box"][i], 0.1), size, keep_outside=True)
            lm68 = track["lm68"][i] @ A[:, :2].T + A[:, 2]
            lm478 = track["lm478"][i][:, :2] @ A[:, :2].T + A[:, 2]
            tile = draw_landmarks(crop, lm68, lm478, thickness=2)
            cv2.putText(tile, f"{i}", (4, size - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 0), 1, cv2.LINE_AA)
            tiles.append(tile)
        while len(tiles) < per_video:
            tiles.append(np.zeros((size, size, 3), np.uint8))
        label = np.zeros((22, size * per_video, 3), np.uint8)
        cv2.putText(label, f"{video.name}: {int(track['valid'].sum())}/{video.num_frames} frames with a face, "
                    f"jitter {video.meta['jitter_px']:.2f} px", (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5,
                    (255, 255, 255), 1, cv2.LINE_AA)
        rows.append(np.concatenate([label, np.concatenate(tiles, axis=1)], axis=0))
    return np.concatenate(rows, axis=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--per-video", type=int, default=6)
    parser.add_argument("--size", type=int, default=192)
    args = parser.parse_args()
    import imageio.v3 as iio

    from avs.io import atomic_path

    sheet = contact_sheet(args.data, args.per_video, args.size)
    with atomic_path(args.out) as tmp:
        iio.imwrite(tmp, sheet, extension=".png")
    print(f"wrote {args.out} ({sheet.shape[1]}x{sheet.shape[0]})")


if __name__ == "__main__":
    main()
