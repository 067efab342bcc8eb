"""x264 settings for flat stick-figure drawings: encoder CPU time, file size and SSIM against the raw frames.

The frames are s2g's 1280×720 drawings of a keypoint sequence (an ``.npz`` written by
``avs predict s2g ... --save-npz``). Every setting encodes the same frames through
:func:`avs.video.write_video`-style piping (OpenCV RGB → I420, 4:2:0, as the toolkit does) and
is then decoded; SSIM (grayscale, :func:`avs.metrics.ssim`; and the mean over R, G, B) is
measured on every ``--every``-th frame against the raw RGB drawing. Settings run in turn,
``--repeat`` rounds, so a busy machine slows them alike; medians are printed as JSON lines.

Run: .venv/bin/python benchmarks/bench_encode.py out.npz [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

SETTINGS: dict[str, list[str]] = {
    "veryfast crf23 (before)": ["-preset", "veryfast", "-crf", "23"],
    "veryfast crf23 animation": ["-preset", "veryfast", "-tune", "animation", "-crf", "23"],
    "superfast crf23 animation": ["-preset", "superfast", "-tune", "animation", "-crf", "23"],
    "ultrafast crf23": ["-preset", "ultrafast", "-crf", "23"],
    "ultrafast crf28": ["-preset", "ultrafast", "-crf", "28"],
    "ultrafast+cabac crf27": ["-preset", "ultrafast", "-crf", "27", "-x264-params", "cabac=1"],
    "ultrafast+cabac+bframes crf27": ["-preset", "ultrafast", "-crf", "27", "-x264-params", "cabac=1:bframes=2"],
    "ultrafast+cabac+bframes crf23": ["-preset", "ultrafast", "-crf", "23", "-x264-params", "cabac=1:bframes=3"],
    "ultrafast+cabac+bframes+8x8 crf23": ["-preset", "ultrafast", "-crf", "23",
                                          "-x264-params", "cabac=1:bframes=3:8x8dct=1"],
    "superfast crf23 no-lookahead": ["-preset", "superfast", "-crf", "23",
                                     "-x264-params", "rc-lookahead=0:mbtree=0"],
    "veryfast crf23 no-weightp no-aq": ["-preset", "veryfast", "-crf", "23", "-x264-params", "weightp=0:aq-mode=0"],
    "veryfast crf23 dia subme1 lean": ["-preset", "veryfast", "-crf", "23", "-x264-params",
                                       "me=dia:subme=1:weightp=0:rc-lookahead=0:mbtree=0:partitions=none"],
    "veryfast crf26 dia subme1 lean": ["-preset", "veryfast", "-crf", "26", "-x264-params",
                                       "me=dia:subme=1:weightp=0:rc-lookahead=0:mbtree=0:partitions=none"],
    "veryfast crf23 subme1 no-mbtree": ["-preset", "veryfast", "-crf", "23",
                                        "-x264-params", "subme=1:mbtree=0:rc-lookahead=0"],
}


def frames(keypoints: np.ndarray):
    from avs.render import SkeletonRenderer
    from avs_s2g.skeleton import EDGE_COLORS, EDGES

    renderer = SkeletonRenderer(EDGES, EDGE_COLORS, size=(720, 1280), line_width=4)
    view = renderer.fit(keypoints)
    for kp in keypoints:
        yield renderer.render_frame(kp, view)


def encode(keypoints: np.ndarray, params: list[str], out: Path) -> tuple[float, float]:
    """(wall s, ffmpeg CPU s) to draw and encode every frame to ``out``."""
    import cv2
    import imageio_ffmpeg

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    writer = imageio_ffmpeg.write_frames(str(out), (1280, 720), pix_fmt_in="yuv420p", pix_fmt_out="yuv420p",
                                         fps=15.0, quality=None, codec="libx264", macro_block_size=1,
                                         ffmpeg_log_level="error", output_params=params)
    writer.send(None)
    for frame in frames(keypoints):
        writer.send(cv2.cvtColor(frame, cv2.COLOR_RGB2YUV_I420))
    writer.close()
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def quality(keypoints: np.ndarray, video: Path, every: int) -> tuple[float, float]:
    """(grayscale SSIM, RGB SSIM) of the decoded frames vs the raw drawings, mean over sampled frames."""
    import imageio_ffmpeg
    from skimage.metrics import structural_similarity

    from avs.metrics import ssim

    reader = imageio_ffmpeg.read_frames(str(video), pix_fmt="rgb24")
    next(reader)  # metadata
    gray, rgb = [], []
    for i, (raw, decoded) in enumerate(zip(frames(keypoints), reader, strict=False)):
        if i % every:
            continue
        dec = np.frombuffer(decoded, np.uint8).reshape(raw.shape)
        gray.append(ssim(dec, raw))
        rgb.append(structural_similarity(raw, dec, channel_axis=2, data_range=255))
    return float(np.mean(gray)), float(np.mean(rgb))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("npz", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--every", type=int, default=30)
    parser.add_argument("--only", nargs="*", help="setting names to run (default: all)")
    args = parser.parse_args()
    keypoints = np.load(args.npz)["keypoints"]
    names = args.only or list(SETTINGS)
    times: dict[str, list[tuple[float, float]]] = {n: [] for n in names}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeat):
            for name in names:
                times[name].append(encode(keypoints, SETTINGS[name], Path(tmp) / f"{len(times[name])}.mp4"))
        for name in names:
            out = Path(tmp) / "q.mp4"
            encode(keypoints, SETTINGS[name], out)
            gray, rgb = quality(keypoints, out, args.every)
            print(json.dumps({
                "bench": "encode", "setting": name, "frames": len(keypoints),
                "wall_s": round(statistics.median(w for w, _ in times[name]), 2),
                "x264_cpu_s": round(statistics.median(c for _, c in times[name]), 2),
                "mp4_kb": round(out.stat().st_size / 1024), "ssim_gray": round(gray, 4), "ssim_rgb": round(rgb, 4),
            }), flush=True)
    subprocess.run(["true"], check=False)


if __name__ == "__main__":
    main()
