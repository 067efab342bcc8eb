"""Frames (+ audio) → mp4, streamed straight into ffmpeg; and a probe for tests and benchmarks.

Frames go to the encoder through a pipe (``imageio_ffmpeg.write_frames``: H.264/libx264,
yuv420p, ``+faststart``); no image is ever written to disk. The sound track is muxed as
AAC from a temporary WAV. The mp4 is encoded to a temporary file beside the target and
renamed at the end, so a failure leaves neither a half-written video nor the temporary.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from avs.errors import AvsError
from avs.io import atomic_path

__all__ = ["VideoInfo", "probe_video", "write_video"]

_CONTAINERS = (".mp4", ".mov", ".m4v", ".mkv")
_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")


def write_video(
    path: str | os.PathLike[str],
    frames: Iterable[np.ndarray],
    fps: float,
    num_frames: int,
    audio: np.ndarray | None = None,
    sample_rate: int | None = None,
    crf: int = 23,
    preset: str = "veryfast",
) -> Path:
    """Encode exactly ``num_frames`` RGB frames (and optionally a sound track) to H.264 video.

    Frames are consumed lazily from ``frames`` and piped to ffmpeg one at a time, so memory
    does not grow with the length of the video; iteration stops after ``num_frames`` frames
    even if ``frames`` has more. Frames of odd width or height are padded by one black
    row/column inside ffmpeg, because yuv420p needs even sizes; :func:`probe_video` then
    reports the padded size.

    The sound track, if given, is fitted to the video's length ``num_frames / fps`` (trimmed,
    or padded with silence) so the two streams end together; a mismatch of more than one
    frame period is a caller bug and raises (pass ``num_frames =
    avs.motion.frames_for_duration(len(audio) / sample_rate, fps)``).

    Args:
        path: output file, ``.mp4`` (also ``.mov``, ``.m4v``, ``.mkv``); parents are created.
        frames: iterable of (H, W, 3) uint8 RGB frames, all the same size.
        fps: frames per second (> 0).
        num_frames: how many frames to write (>= 1).
        audio: (N,) mono or (N, C) float samples in [-1, 1] at ``sample_rate`` Hz, or None
            for a silent video.
        sample_rate: Hz; required with ``audio``.
        crf: x264 constant rate factor (0-51, lower is better quality; 23 is x264's default).
        preset: x264 speed/size trade-off (``ultrafast`` ... ``veryslow``).

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        AvsError: ``frames`` runs out before ``num_frames``; a frame is not (H, W, 3) uint8
            or changes size; bad ``fps``/``num_frames``/``crf``/``preset``/suffix; ``audio`` without
            ``sample_rate`` or of a length that does not match the video; ffmpeg fails.
            In every case neither ``path`` nor any temporary file is left behind.
    """
    import cv2

    path = Path(path)
    num_frames = _check_arguments(path, fps, num_frames, crf, preset)
    if audio is not None:
        audio = _fit_audio(audio, sample_rate, num_frames, fps)

    iterator = iter(frames)
    try:
        first = next(iterator)
    except StopIteration:
        raise AvsError(f"no frames to write: expected {num_frames}") from None
    first = _check_frame(first, None, 0)
    height, width = first.shape[:2]

    output_params = ["-crf", str(int(crf)), "-preset", preset, "-movflags", "+faststart"]
    # Even sizes: convert RGB → I420 with OpenCV (BT.601 limited range, what ffmpeg's own
    # rgb24 → yuv420p conversion gives) so half the bytes cross the pipe and ffmpeg skips its
    # single-threaded swscale step: about 30% faster end to end. Odd sizes: ffmpeg pads.
    as_yuv = height % 2 == 0 and width % 2 == 0
    if not as_yuv:
        output_params += ["-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2"]
    convert = (lambda f: cv2.cvtColor(f, cv2.COLOR_RGB2YUV_I420)) if as_yuv else (lambda f: f)

    with tempfile.TemporaryDirectory(prefix="avs-video-") as scratch, atomic_path(path) as tmp:
        audio_path = None
        if audio is not None:
            from avs.audio import write_wav

            audio_path = str(write_wav(Path(scratch) / "audio.wav", audio, int(sample_rate)))
            output_params += ["-c:a", "aac", "-b:a", "128k"]
        writer = _start_encoder(tmp, (int(width), int(height)), as_yuv, float(fps), output_params, audio_path)
        # The ffmpeg process, to check its exit status once it is done (write_frames does
        # not); if imageio-ffmpeg ever hides it, the empty-output check below still holds.
        process = getattr(writer.gi_frame, "f_locals", {}).get("p")
        try:
            _send_frames(writer, convert, first, iterator, num_frames)
        except OSError as err:  # ffmpeg died: broken pipe
            raise AvsError(f"ffmpeg failed while encoding {path.name}: {_first_line(err)}") from err
        finally:
            writer.close()  # waits for ffmpeg to finish; the temporary file goes if we raised
        status = getattr(process, "returncode", 0)
        if status or tmp.stat().st_size == 0:
            raise AvsError(f"ffmpeg failed to write {path.name} (exit status {status})")
    return path


def _start_encoder(tmp: Path, size: tuple[int, int], as_yuv: bool, fps: float, output_params: list[str],
                   audio_path: str | None) -> Any:
    """A started imageio-ffmpeg libx264 writer into ``tmp`` ((width, height); I420 or RGB frames in)."""
    import imageio_ffmpeg

    writer = imageio_ffmpeg.write_frames(
        str(tmp),
        size,
        pix_fmt_in="yuv420p" if as_yuv else "rgb24",
        pix_fmt_out="yuv420p",
        fps=fps,
        quality=None,
        codec="libx264",
        macro_block_size=1,
        ffmpeg_log_level="error",
        output_params=output_params,
        audio_path=audio_path,
    )
    writer.send(None)  # start ffmpeg
    return writer


def _check_arguments(path: Path, fps: float, num_frames: int, crf: int, preset: str) -> int:
    """``num_frames`` as an int after checking :func:`write_video`'s arguments (AvsError if bad)."""
    if path.suffix.lower() not in _CONTAINERS:
        raise AvsError(f"video path {path} must end in one of {', '.join(_CONTAINERS)}")
    if not fps > 0:
        raise AvsError(f"invalid frame rate {fps}: expected fps > 0")
    if int(num_frames) != num_frames or num_frames < 1:
        raise AvsError(f"invalid frame count {num_frames}: expected an integer >= 1")
    if not 0 <= crf <= 51:
        raise AvsError(f"invalid crf {crf}: expected 0-51")
    if preset not in _PRESETS:
        raise AvsError(f"invalid x264 preset {preset!r}: expected one of {', '.join(_PRESETS)}")
    return int(num_frames)


def _send_frames(writer: Any, convert: Any, first: np.ndarray, rest: Iterator[np.ndarray], num_frames: int) -> None:
    """Send ``first`` and then frames of ``rest`` until ``num_frames`` went to the encoder.

    Raises:
        AvsError: ``rest`` runs out early, or a frame is not (H, W, 3) uint8 of ``first``'s size.
    """
    size = first.shape[:2]
    writer.send(convert(first))
    for index in range(1, num_frames):
        try:
            frame = next(rest)
        except StopIteration:
            raise AvsError(f"the frame source ran out after {index} of {num_frames} frames") from None
        writer.send(convert(_check_frame(frame, size, index)))


def _check_frame(frame: np.ndarray, size: tuple[int, int] | None, index: int) -> np.ndarray:
    """Validate one frame and return it C-contiguous (no copy if it already is)."""
    frame = np.asarray(frame)
    if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
        raise AvsError(
            f"frame {index} must be (H, W, 3) uint8 RGB, got shape {frame.shape} dtype {frame.dtype}"
        )
    if size is not None and frame.shape[:2] != size:
        raise AvsError(f"frame {index} is {frame.shape[1]}x{frame.shape[0]}, expected {size[1]}x{size[0]}")
    if frame.shape[0] < 2 or frame.shape[1] < 2:
        raise AvsError(f"frame {index} is too small to encode: {frame.shape[1]}x{frame.shape[0]}")
    return np.ascontiguousarray(frame)


def _fit_audio(audio: np.ndarray, sample_rate: int | None, num_frames: int, fps: float) -> np.ndarray:
    """Trim or zero-pad ``audio`` to ``num_frames / fps`` seconds.

    A mismatch of up to one frame period (what ``round(duration * fps)`` can cause) is
    absorbed; a larger one raises AvsError.
    """
    if sample_rate is None or int(sample_rate) != sample_rate or sample_rate <= 0:
        raise AvsError(f"audio needs a positive integer sample_rate, got {sample_rate!r}")
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim not in (1, 2) or audio.shape[0] == 0:
        raise AvsError(f"audio must be (N,) or (N, C) samples with N > 0, got shape {audio.shape}")
    want = int(round(num_frames / fps * sample_rate))
    have = audio.shape[0]
    if abs(have - want) > sample_rate / fps + 1:
        raise AvsError(
            f"audio is {have / sample_rate:.3f} s long but {num_frames} frames at {fps:g} fps "
            f"last {num_frames / fps:.3f} s"
        )
    if have >= want:
        return audio[:want]
    return np.pad(audio, [(0, want - have)] + [(0, 0)] * (audio.ndim - 1))


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


@dataclass(frozen=True)
class VideoInfo:
    """What :func:`probe_video` finds in a video file.

    Attributes:
        num_frames: decoded video frames.
        fps: frame rate of the video stream (frames/s).
        duration: length of the video stream in seconds (as decoded by ffmpeg).
        width, height: frame size in pixels.
        has_audio: whether there is an audio stream.
        audio_duration: length of the decoded audio stream in seconds (0.0 if none).
    """

    num_frames: int
    fps: float
    duration: float
    width: int
    height: int
    has_audio: bool
    audio_duration: float


def probe_video(path: str | os.PathLike[str]) -> VideoInfo:
    """Count frames and measure both streams of a video by decoding it with the bundled ffmpeg.

    Decodes the whole file (meant for tests and benchmarks, not hot paths).

    Raises:
        AvsError: the file is missing or ffmpeg cannot read a video stream from it.
    """
    import imageio_ffmpeg

    path = Path(path)
    if not path.is_file():
        raise AvsError(f"video file not found: {path}")
    exe = imageio_ffmpeg.get_ffmpeg_exe()
    header = subprocess.run(
        [exe, "-hide_banner", "-nostdin", "-i", str(path)], capture_output=True, text=True, errors="replace"
    ).stderr
    video_line = next((ln for ln in header.splitlines() if re.search(r"Stream #.*: Video:", ln)), None)
    if video_line is None:
        raise AvsError(f"{path} has no readable video stream")
    size = re.search(r", (\d{2,5})x(\d{2,5})[ ,\[]", video_line)
    fps = re.search(r"([\d.]+) fps", video_line)
    has_audio = re.search(r"Stream #.*: Audio:", header) is not None
    try:
        num_frames, duration = imageio_ffmpeg.count_frames_and_secs(str(path))
    except RuntimeError as err:
        raise AvsError(f"ffmpeg cannot decode {path}: {_first_line(err)}") from err
    audio_duration = 0.0
    if has_audio:
        decoded = subprocess.run(
            [exe, "-hide_banner", "-nostdin", "-i", str(path), "-map", "0:a:0", "-f", "null", "-"],
            capture_output=True, text=True, errors="replace",
        ).stderr
        times = re.findall(r"time=\s*(\d+):(\d+):([\d.]+)", decoded)
        if times:
            h, m, s = times[-1]
            audio_duration = int(h) * 3600 + int(m) * 60 + float(s)
    return VideoInfo(
        num_frames=int(num_frames),
        fps=float(fps.group(1)) if fps else 0.0,
        duration=float(duration),
        width=int(size.group(1)) if size else 0,
        height=int(size.group(2)) if size else 0,
        has_audio=has_audio,
        audio_duration=audio_duration,
    )
