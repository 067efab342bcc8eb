"""Reading talking-face videos with ffmpeg (imageio-ffmpeg's bundled binary): a cheap probe that
catches bad inputs before long work, frames resampled to 25 fps, and 16 kHz mono audio."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from avs.errors import AvsError

FPS = 25
SAMPLE_RATE = 16000
SAMPLES_PER_FRAME = SAMPLE_RATE // FPS  # 640
MIN_SECONDS = 1.0


@dataclass(frozen=True)
class MediaInfo:
    """What ffmpeg reports about a video file before decoding it."""

    path: Path
    width: int
    height: int
    fps: float
    duration: float
    codec: str
    audio_codec: str

    @property
    def expected_frames(self) -> int:
        """Frames at 25 fps the duration implies."""
        return int(round(self.duration * FPS))


def _first_line(exc: BaseException) -> str:
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    return lines[-1] if lines else type(exc).__name__


def probe_media(path: str | Path) -> MediaInfo:
    """Check a talking-face video without decoding it.

    Raises:
        AvsError: missing or empty file; not readable by ffmpeg (truncated, not a video); no video
            stream; a still image; shorter than 1 s; no audio track.
    """
    import imageio_ffmpeg

    path = Path(path)
    if not path.is_file():
        raise AvsError(f"video not found: {path}")
    if path.stat().st_size == 0:
        raise AvsError(f"{path} is an empty (0-byte) file")
    gen = imageio_ffmpeg.read_frames(str(path))
    try:
        meta = next(gen)
    except (RuntimeError, OSError, StopIteration) as exc:
        raise AvsError(f"cannot read {path} as a video (truncated or not a video?): {_first_line(exc)}") from None
    finally:
        gen.close()
    codec = str(meta.get("codec", ""))
    duration = float(meta.get("duration") or 0.0)
    if codec in ("png", "mjpeg", "bmp", "tiff", "webp", "gif", "jpeg2000") and duration < MIN_SECONDS:
        raise AvsError(f"{path} is a still image ({codec}), not a video")
    if duration < MIN_SECONDS:
        raise AvsError(f"{path} lasts {duration:.2f} s; a talking-face video must last at least {MIN_SECONDS:g} s")
    audio_codec = str(meta.get("audio_codec") or "")
    if not audio_codec:
        raise AvsError(f"{path} has no audio track (speech is needed beside the frames)")
    w, h = (int(v) for v in meta["size"])
    return MediaInfo(path, w, h, float(meta.get("fps") or 0.0), duration, codec, audio_codec)


def iter_frames(path: str | Path) -> Iterator[np.ndarray]:
    """Decode the video resampled to 25 fps (ffmpeg ``fps`` filter: frames dropped or repeated
    by timestamp), yielding (H, W, 3) uint8 RGB frames.

    Raises:
        AvsError: ffmpeg fails mid-stream.
    """
    import imageio_ffmpeg

    gen = imageio_ffmpeg.read_frames(str(path), output_params=["-vf", f"fps={FPS}"])
    try:
        meta = next(gen)
        w, h = (int(v) for v in meta["size"])
        for buf in gen:
            yield np.frombuffer(buf, np.uint8).reshape(h, w, 3)
    except RuntimeError as exc:
        raise AvsError(f"cannot decode {path}: {_first_line(exc)}") from None
    finally:
        gen.close()


def read_audio(path: str | Path, num_frames: int) -> tuple[np.ndarray, int]:
    """The sound track as 16 kHz mono float32, fitted to exactly ``num_frames × 640`` samples.

    ffmpeg downmixes and resamples (``-ac 1 -ar 16000``); the end is trimmed or padded with
    silence so audio and 25 fps frames stay in step.

    Returns:
        ((num_frames·640,) float32 in [−1, 1], samples trimmed (> 0) or padded (< 0)).

    Raises:
        AvsError: ffmpeg cannot decode the audio.
    """
    import imageio_ffmpeg

    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-nostdin", "-i", str(path), "-vn", "-ac", "1",
           "-ar", str(SAMPLE_RATE), "-f", "f32le", "-"]
    proc = subprocess.run(cmd, capture_output=True, check=False)
    if proc.returncode != 0 or not proc.stdout:
        why = _first_line(RuntimeError(proc.stderr.decode(errors="replace")))
        raise AvsError(f"cannot decode the audio of {path}: {why}")
    audio = np.frombuffer(proc.stdout, np.float32)
    want = num_frames * SAMPLES_PER_FRAME
    diff = len(audio) - want
    out = np.zeros(want, np.float32)
    out[:min(want, len(audio))] = audio[:want]
    return np.clip(out, -1.0, 1.0), diff
