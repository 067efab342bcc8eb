"""avs.video: streaming frames + audio into an mp4, atomically; probing the result."""

from __future__ import annotations

import imageio_ffmpeg
import numpy as np
import pytest

from avs.errors import AvsError
from avs.motion import frames_for_duration
from avs.video import probe_video, write_video

H, W = 64, 96


def _frames(n: int, height: int = H, width: int = W):
    """n distinct frames: a bright square walking across a dark background."""
    for i in range(n):
        frame = np.full((height, width, 3), 20, dtype=np.uint8)
        x = (i * 3) % (width - 8)
        frame[8:16, x : x + 8] = (250, 40, 40)
        yield frame


def _red_centre(frame: np.ndarray) -> float:
    columns = np.nonzero(frame[12, :, 0] > 128)[0]
    return float(columns.mean())


def test_frames_and_audio_round_trip(tmp_path):
    sr, fps = 16000, 15.0
    audio = (0.3 * np.sin(2 * np.pi * 440 * np.arange(int(2.3 * sr)) / sr)).astype(np.float32)
    n = frames_for_duration(len(audio) / sr, fps)
    path = write_video(tmp_path / "out.mp4", _frames(n), fps, n, audio=audio, sample_rate=sr)
    assert path == tmp_path / "out.mp4"
    info = probe_video(path)
    assert info.num_frames == n
    assert info.fps == pytest.approx(fps)
    assert info.duration == pytest.approx(n / fps, abs=1 / fps)
    assert (info.width, info.height) == (W, H)
    assert info.has_audio
    assert info.audio_duration == pytest.approx(n / fps, abs=0.05)
    assert [p.name for p in tmp_path.iterdir()] == ["out.mp4"]


def test_content_survives(tmp_path):
    frames = list(_frames(10))
    path = write_video(tmp_path / "v.mp4", iter(frames), 10, 10, crf=10)
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    assert tuple(meta["size"]) == (W, H)
    decoded = [np.frombuffer(b, np.uint8).reshape(H, W, 3) for b in reader]
    assert len(decoded) == 10
    for original, back in zip(frames, decoded, strict=True):
        assert np.abs(original.astype(int) - back.astype(int)).mean() < 4
        # the red square is where it was (centre of its columns, to a pixel)
        assert _red_centre(back) == pytest.approx(_red_centre(original), abs=1.0)


def test_drawing_encoding_keeps_the_picture(tmp_path):
    """The x264 settings for flat drawings write every frame, and the content survives."""
    from avs.video import DRAWING_ENCODING

    frames = list(_frames(12))
    path = write_video(tmp_path / "d.mp4", iter(frames), 12, 12, **DRAWING_ENCODING)
    reader = imageio_ffmpeg.read_frames(str(path))
    next(reader)
    decoded = [np.frombuffer(b, np.uint8).reshape(H, W, 3) for b in reader]
    assert len(decoded) == 12
    for original, back in zip(frames, decoded, strict=True):
        assert _red_centre(back) == pytest.approx(_red_centre(original), abs=1.0)


def test_stops_after_num_frames(tmp_path):
    consumed = 0

    def endless():
        nonlocal consumed
        for frame in _frames(10**6):
            consumed += 1
            yield frame

    path = write_video(tmp_path / "v.mp4", endless(), 25, 12)
    assert probe_video(path).num_frames == 12
    assert consumed == 12
    assert not probe_video(path).has_audio


def test_source_running_dry_leaves_nothing(tmp_path):
    with pytest.raises(AvsError, match="ran out after 5 of 20"):
        write_video(tmp_path / "v.mp4", _frames(5), 25, 20)
    assert list(tmp_path.iterdir()) == []


def test_failing_source_leaves_nothing(tmp_path):
    def broken():
        yield from _frames(3)
        raise RuntimeError("renderer bug")

    with pytest.raises(RuntimeError, match="renderer bug"):
        write_video(tmp_path / "v.mp4", broken(), 25, 10)
    assert list(tmp_path.iterdir()) == []


def test_existing_file_is_untouched_on_failure(tmp_path):
    target = tmp_path / "v.mp4"
    target.write_bytes(b"previous video")
    with pytest.raises(AvsError):
        write_video(target, _frames(2), 25, 3)
    assert target.read_bytes() == b"previous video"
    assert [p.name for p in tmp_path.iterdir()] == ["v.mp4"]


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((H, W, 3), np.float32),  # wrong dtype
        np.zeros((H, W), np.uint8),  # not RGB
        np.zeros((H + 2, W, 3), np.uint8),  # size changes mid-stream
    ],
)
def test_bad_frame_leaves_nothing(tmp_path, bad):
    def frames():
        yield from _frames(2)
        yield bad

    with pytest.raises(AvsError, match="frame 2"):
        write_video(tmp_path / "v.mp4", frames(), 25, 4)
    assert list(tmp_path.iterdir()) == []


def test_odd_size_is_padded_to_even(tmp_path):
    path = write_video(tmp_path / "odd.mp4", _frames(4, 33, 47), 10, 4)
    info = probe_video(path)
    assert (info.width, info.height, info.num_frames) == (48, 34, 4)


def test_audio_length_is_fitted_or_rejected(tmp_path):
    sr = 8000
    # 10 frames at 10 fps = 1 s; audio 1.05 s (within a frame) is trimmed to fit
    path = write_video(tmp_path / "a.mp4", _frames(10), 10, 10, audio=np.zeros(8400, np.float32),
                       sample_rate=sr)
    assert probe_video(path).audio_duration == pytest.approx(1.0, abs=0.05)
    with pytest.raises(AvsError, match="audio is 3.000 s"):
        write_video(tmp_path / "b.mp4", _frames(10), 10, 10, audio=np.zeros(3 * sr, np.float32),
                    sample_rate=sr)
    with pytest.raises(AvsError, match="sample_rate"):
        write_video(tmp_path / "c.mp4", _frames(10), 10, 10, audio=np.zeros(sr, np.float32))
    assert [p.name for p in tmp_path.iterdir()] == ["a.mp4"]


@pytest.mark.parametrize(
    ("name", "fps", "num_frames", "options"),
    [
        ("v.avi", 25, 5, {}),
        ("v.mp4", 0, 5, {}),
        ("v.mp4", 25, 0, {}),
        ("v.mp4", 25, 5, {"crf": 60}),
        ("v.mp4", 25, 5, {"preset": "warp"}),
        ("v.mp4", 25, 5, {"x264_params": "cabac=1 -y /etc/x"}),
        ("v.mp4", 25, 5, {"x264_params": "cabac"}),
    ],
)
def test_bad_arguments(tmp_path, name, fps, num_frames, options):
    with pytest.raises(AvsError):
        write_video(tmp_path / name, _frames(5), fps, num_frames, **options)
    assert list(tmp_path.iterdir()) == []


def test_probe_missing_and_not_video(tmp_path):
    with pytest.raises(AvsError, match="not found"):
        probe_video(tmp_path / "nope.mp4")
    text = tmp_path / "x.mp4"
    text.write_text("not a video")
    with pytest.raises(AvsError):
        probe_video(text)


def _fake_ffmpeg(tmp_path, script: str) -> str:
    exe = tmp_path.parent / f"fake-ffmpeg-{abs(hash(script))}"
    exe.write_text("#!/bin/sh\n" + script + "\n")
    exe.chmod(0o755)
    return str(exe)


@pytest.mark.parametrize("num_frames", [2, 40])  # fits in the pipe's buffer / does not
@pytest.mark.parametrize(
    "script",
    [
        "exit 1",  # dies at once, writes nothing
        'for last; do :; done; echo partial > "$last"; cat > /dev/null; exit 1',  # writes, then fails
    ],
    ids=["dies-at-once", "writes-then-fails"],
)
def test_ffmpeg_failure_is_an_avs_error_and_leaves_nothing(tmp_path, monkeypatch, num_frames, script):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    monkeypatch.setattr("imageio_ffmpeg._io.get_ffmpeg_exe", lambda: _fake_ffmpeg(tmp_path, script))
    with pytest.raises(AvsError, match="ffmpeg failed"):
        write_video(out_dir / "v.mp4", _frames(num_frames), 25, num_frames)
    assert list(out_dir.iterdir()) == []
