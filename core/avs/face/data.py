"""Reading a face data set written by ``avs data prepare face`` (format in ``docs/face.md``)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from avs.errors import AvsError

FORMAT = "avs-face-data"
VERSION = 1
TRACK_KEYS = ("valid", "lm68", "lm478", "box", "euler", "trans", "exp", "identity")
SPLITS = ("train", "dev", "test")


@dataclass
class FaceVideo:
    """One prepared video: 25 fps frames, 16 kHz audio, per-frame track."""

    name: str
    root: Path
    num_frames: int
    width: int
    height: int
    fps: float
    meta: dict[str, Any]
    split_ranges: dict[str, tuple[int, int]]
    _track: dict[str, np.ndarray] | None = field(default=None, repr=False)

    @property
    def track(self) -> dict[str, np.ndarray]:
        """The arrays of ``track.npz`` (``valid``, ``lm68``, ``lm478``, ``box``, ``euler``, ``trans``,
        ``exp``, ``identity``, ``identity_shape``, ``interpolated``), loaded once, never unpickled."""
        if self._track is None:
            path = self.root / "track.npz"
            try:
                with np.load(path, allow_pickle=False) as z:
                    self._track = {k: z[k] for k in z.files}
            except Exception as exc:
                raise AvsError(f"cannot read {path}: {exc}") from None
            missing = [k for k in TRACK_KEYS if k not in self._track]
            if missing:
                raise AvsError(f"{path} lacks {', '.join(missing)}")
        return self._track

    def read_frames(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Frames ``start:stop`` as (N, H, W, 3) uint8 RGB (decoded from ``frames.mp4``)."""
        import imageio_ffmpeg

        stop = self.num_frames if stop is None else min(stop, self.num_frames)
        if not 0 <= start <= stop:
            raise AvsError(f"{self.name}: bad frame range {start}:{stop} of {self.num_frames}")
        out = np.empty((stop - start, self.height, self.width, 3), np.uint8)
        if stop == start:
            return out
        # seek by time before the input (fast and frame-exact for constant 25 fps)
        gen = imageio_ffmpeg.read_frames(str(self.root / "frames.mp4"),
                                         input_params=["-ss", f"{start / self.fps:.6f}"])
        try:
            next(gen)
            n = 0
            for buf in gen:
                if n == len(out):
                    break
                out[n] = np.frombuffer(buf, np.uint8).reshape(self.height, self.width, 3)
                n += 1
        finally:
            gen.close()
        if n != len(out):
            raise AvsError(f"{self.root / 'frames.mp4'} ended after {start + n} of {stop} frames")
        return out

    def audio(self) -> np.ndarray:
        """(num_frames·640,) float32 mono at 16 kHz."""
        import soundfile as sf

        audio, sr = sf.read(self.root / "audio.wav", dtype="float32", always_2d=False)
        if sr != 16000:
            raise AvsError(f"{self.root / 'audio.wav'} is at {sr} Hz, expected 16000")
        return audio


@dataclass
class FaceData:
    """A prepared face data set: ``fps``, ``sample_rate``, ``videos``."""

    root: Path
    fps: float
    sample_rate: int
    videos: list[FaceVideo]

    def video(self, name: str) -> FaceVideo:
        for v in self.videos:
            if v.name == name:
                return v
        raise AvsError(f"no video {name!r} in {self.root} (has: {', '.join(v.name for v in self.videos)})")

    def split(self, name: str) -> list[tuple[FaceVideo, int, int]]:
        """(video, start, stop) frame ranges of a split (``train``, ``dev`` or ``test``)."""
        if name not in SPLITS:
            raise AvsError(f"unknown split {name!r} (use {', '.join(SPLITS)})")
        out = []
        for v in self.videos:
            a, b = v.split_ranges.get(name, (0, 0))
            if b > a:
                out.append((v, a, b))
        return out


def open_face_data(root: str | Path) -> FaceData:
    """Open a folder written by ``avs data prepare face``.

    Raises:
        AvsError: not a folder, no or unreadable ``index.json``, another format or version, a video
            folder listed but missing.
    """
    root = Path(root)
    if not root.is_dir():
        raise AvsError(f"face data folder not found: {root}")
    index = root / "index.json"
    if not index.is_file():
        raise AvsError(f"{root} has no index.json: not a face data set (make one with `avs data prepare face`)")
    try:
        payload = json.loads(index.read_text())
    except (OSError, ValueError) as exc:
        raise AvsError(f"cannot read {index}: {exc}") from None
    if payload.get("format") != FORMAT:
        raise AvsError(f"{index} is not an avs face data index (format {payload.get('format')!r})")
    if payload.get("version") != VERSION:
        raise AvsError(f"{index} has version {payload.get('version')}; this avs reads version {VERSION}")
    videos = []
    for entry in payload.get("videos", []):
        vroot = root / entry["name"]
        meta_path = vroot / "meta.json"
        if not meta_path.is_file():
            raise AvsError(f"{root} lists video {entry['name']!r} but {meta_path} is missing")
        meta = json.loads(meta_path.read_text())
        videos.append(FaceVideo(name=entry["name"], root=vroot, num_frames=int(entry["num_frames"]),
                                width=int(meta["width"]), height=int(meta["height"]), fps=float(meta["fps"]),
                                meta=meta, split_ranges={k: tuple(v) for k, v in entry.get("split", {}).items()}))
    return FaceData(root=root, fps=float(payload["fps"]), sample_rate=int(payload["sample_rate"]), videos=videos)
