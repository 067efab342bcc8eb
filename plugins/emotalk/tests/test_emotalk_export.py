"""Export formats (npy, Live Link Face CSV, PNG, JSON) and the face renderer."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from avs.errors import AvsError
from avs.motion import Motion
from avs.protocols import Renderer
from avs_emotalk.arkit import ARKIT_NAMES, INDEX, LIVE_LINK_ORDER
from avs_emotalk.export import (
    export_motion,
    live_link_header,
    live_link_timecode,
    read_live_link_csv,
    write_live_link_csv,
    write_plot,
)
from avs_emotalk.render import FaceRenderer, face_geometry


def _motion(frames: int = 45) -> Motion:
    rng = np.random.default_rng(0)
    data = rng.uniform(0, 1, (frames, 52)).astype(np.float32)
    probs = np.tile(np.eye(8, dtype=np.float32)[2], (frames, 1))
    return Motion("blendshapes", data, 30.0, {"emotion_probs": probs})


def test_live_link_layout(tmp_path) -> None:
    motion = _motion(65)
    path = write_live_link_csv(motion, tmp_path / "take.csv")
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][:4] == ["Timecode", "BlendShapeCount", "EyeBlinkLeft", "EyeLookDownLeft"]
    assert rows[0][53] == "TongueOut" and len(rows[0]) == 63 and len(rows) == 66
    assert sorted(n.lower() for n in rows[0][2:54]) == sorted(n.lower() for n in ARKIT_NAMES)
    assert rows[1][:2] == ["00:00:00:00.000", "61"] and rows[31][0] == "00:00:01:00.000"
    assert rows[65][0] == "00:00:02:04.000"
    # values land under their names
    assert float(rows[1][rows[0].index("JawOpen")]) == pytest.approx(motion.data[0, INDEX["jawOpen"]], abs=1e-6)
    np.testing.assert_allclose(read_live_link_csv(path), motion.data, atol=1e-6)
    assert live_link_header()[2:54] == [n[0].upper() + n[1:] for n in LIVE_LINK_ORDER]
    assert live_link_timecode(30 * 3600 + 30 * 61 + 7) == "01:01:01:07.000"


def test_export_writes_four_files(tmp_path, small_cfg) -> None:
    motion = _motion()
    paths = export_motion(motion, tmp_path / "out" / "clip.mp4", small_cfg)
    assert [p.suffix for p in paths] == [".npy", ".csv", ".png", ".json"]
    np.testing.assert_array_equal(np.load(paths[0]), motion.data)
    assert paths[2].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and paths[2].stat().st_size > 10_000
    info = json.loads(paths[3].read_text())
    assert info["frames"] == 45 and info["emotion_heard"]["emotion"] == "happy" and len(info["blendshapes"]) == 52
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["clip.csv", "clip.json", "clip.npy", "clip.png"]


def test_export_refuses_other_motion_and_leaves_nothing(tmp_path) -> None:
    bad = Motion("keypoints-2d", np.zeros((10, 49, 2), np.float32), 15.0)
    with pytest.raises(AvsError, match=r"\(T, 52\)"):
        export_motion(bad, tmp_path / "x.mp4")
    assert list(tmp_path.iterdir()) == []


def test_failed_plot_leaves_no_file(tmp_path, monkeypatch) -> None:
    from matplotlib.figure import Figure

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(Figure, "savefig", boom)
    with pytest.raises(RuntimeError):
        write_plot(_motion(), tmp_path / "p.png")
    assert list(tmp_path.iterdir()) == []


def test_renderer_protocol_and_frame_count() -> None:
    renderer = FaceRenderer((96, 128))
    assert isinstance(renderer, Renderer)
    frames = list(renderer.frames(_motion(17)))
    assert len(frames) == 17 and all(f.shape == (96, 128, 3) and f.dtype == np.uint8 for f in frames)
    with pytest.raises(AvsError, match="blendshapes"):
        list(renderer.frames(Motion("keypoints-2d", np.zeros((3, 49, 2), np.float32), 15.0)))
    with pytest.raises(AvsError, match="at least 64x64"):
        FaceRenderer((32, 32))


def _face(**weights: float) -> np.ndarray:
    w = np.zeros(52, np.float32)
    for name, value in weights.items():
        w[INDEX[name]] = value
    return w


def _changed(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of pixels that differ between two frames."""
    diff = np.abs(a.astype(int) - b.astype(int)).sum(-1) > 30
    ys, xs = np.nonzero(diff)
    return ys, xs


def test_face_follows_the_curves() -> None:
    """jawOpen, eyeBlink*, mouthSmile* and browInnerUp visibly move the right parts the right way."""
    r = FaceRenderer((256, 256), label=False)
    rest = r.draw(_face())
    scale, (cx, cy) = r.scale, r.origin
    to_y = lambda v: cy + v * scale  # noqa: E731

    g0, g1 = face_geometry(_face()), face_geometry(_face(jawOpen=1.0))
    assert g1["chin"][1] > g0["chin"][1] + 0.2 and g1["mouth"]["gap"] > 0.25
    ys, _ = _changed(rest, r.draw(_face(jawOpen=1.0)))
    assert ys.size > 500 and ys.max() > to_y(g0["chin"][1])  # the chin moved below its rest position

    blink = r.draw(_face(eyeBlinkLeft=1.0))
    ys, xs = _changed(rest, blink)
    assert ys.size > 30 and xs.min() > cx  # the subject's left eye is on the image's right
    iris = np.array([66, 112, 160])
    right_half = (slice(None), slice(int(cx), None))
    assert (np.abs(rest[right_half].astype(int) - iris).sum(-1) < 40).sum() > 20
    assert (np.abs(blink[right_half].astype(int) - iris).sum(-1) < 40).sum() == 0  # iris hidden

    smile = face_geometry(_face(mouthSmileLeft=1.0, mouthSmileRight=1.0))
    assert (smile["mouth"]["corners"][:, 1] < g0["mouth"]["corners"][:, 1] - 0.08).all()  # corners up
    ys, _ = _changed(rest, r.draw(_face(mouthSmileLeft=1.0, mouthSmileRight=1.0)))
    assert ys.size > 50 and ys.min() > to_y(0.3)  # only the lower face changed

    brow = face_geometry(_face(browInnerUp=1.0))
    for side in ("left", "right"):
        assert brow["brows"][side][0, 1] < g0["brows"][side][0, 1] - 0.1  # inner ends up
        assert abs(brow["brows"][side][-1, 1] - g0["brows"][side][-1, 1]) < 1e-9  # outer ends stay
    ys, _ = _changed(rest, r.draw(_face(browInnerUp=1.0)))
    assert ys.size > 20 and ys.max() < to_y(-0.15)  # only the brow region changed


# The Live Link Face app's own take CSV header (Epic Games' iOS app): 52 ARKit curves then 9 rotations.
APP_HEADER = (
    "Timecode,BlendShapeCount,EyeBlinkLeft,EyeLookDownLeft,EyeLookInLeft,EyeLookOutLeft,EyeLookUpLeft,"
    "EyeSquintLeft,EyeWideLeft,EyeBlinkRight,EyeLookDownRight,EyeLookInRight,EyeLookOutRight,EyeLookUpRight,"
    "EyeSquintRight,EyeWideRight,JawForward,JawRight,JawLeft,JawOpen,MouthClose,MouthFunnel,MouthPucker,"
    "MouthRight,MouthLeft,MouthSmileLeft,MouthSmileRight,MouthFrownLeft,MouthFrownRight,MouthDimpleLeft,"
    "MouthDimpleRight,MouthStretchLeft,MouthStretchRight,MouthRollLower,MouthRollUpper,MouthShrugLower,"
    "MouthShrugUpper,MouthPressLeft,MouthPressRight,MouthLowerDownLeft,MouthLowerDownRight,MouthUpperUpLeft,"
    "MouthUpperUpRight,BrowDownLeft,BrowDownRight,BrowInnerUp,BrowOuterUpLeft,BrowOuterUpRight,CheekPuff,"
    "CheekSquintLeft,CheekSquintRight,NoseSneerLeft,NoseSneerRight,TongueOut,HeadYaw,HeadPitch,HeadRoll,"
    "LeftEyeYaw,LeftEyePitch,LeftEyeRoll,RightEyeYaw,RightEyePitch,RightEyeRoll"
).split(",")


def _parse_like_importers(path, fps: float) -> tuple[list[str], np.ndarray, list[float]]:
    """Read a take as the Unreal/Blender/Maya importers of the app's files do: fixed header, the count
    column says how many values follow, the timecode HH:MM:SS:FF.mmm gives the time at the take's rate."""
    import re

    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], rows[1:]
    times, values = [], []
    for row in body:
        match = re.fullmatch(r"(\d{2}):(\d{2}):(\d{2}):(\d{2})\.(\d{3})", row[0])
        assert match, row[0]
        h, m, sec, ff, mmm = (int(g) for g in match.groups())
        assert ff < int(np.ceil(fps))
        times.append(h * 3600 + m * 60 + sec + (ff + mmm / 1000) / fps)
        count = int(row[1])
        assert len(row) == 2 + count
        values.append([float(v) for v in row[2 : 2 + count]])
    return header, np.asarray(values), times


@pytest.mark.parametrize("fps", [30.0, 25.0, 60.0])
def test_live_link_csv_reads_like_the_app_file(tmp_path, fps) -> None:
    motion = _motion(70)
    motion = Motion("blendshapes", motion.data, fps, motion.extras)
    path = write_live_link_csv(motion, tmp_path / "take.csv")
    header, values, times = _parse_like_importers(path, fps)
    assert header == APP_HEADER
    assert values.shape == (70, 61)
    np.testing.assert_allclose(times, np.arange(70) / fps, atol=1e-9)
    by_name = dict(zip(header[2:], values.T, strict=True))
    np.testing.assert_allclose(by_name["JawOpen"], motion.data[:, INDEX["jawOpen"]], atol=1e-6)
    np.testing.assert_allclose(by_name["EyeBlinkRight"], motion.data[:, INDEX["eyeBlinkRight"]], atol=1e-6)
    assert not values[:, 52:].any()  # EmoTalk predicts no head or eye rotation: zeros


def test_live_link_csv_carries_head_pose(tmp_path) -> None:
    motion = _motion(10)
    head = np.linspace(-0.2, 0.2, 30, dtype=np.float32).reshape(10, 3)
    motion = Motion("blendshapes", motion.data, 30.0, {"head_rotation": head})
    _, values, _ = _parse_like_importers(write_live_link_csv(motion, tmp_path / "t.csv"), 30.0)
    np.testing.assert_allclose(values[:, 52:55], head, atol=1e-6)
    assert not values[:, 55:].any()


def test_live_link_timecode_fractional_rate() -> None:
    assert live_link_timecode(29, 30.0) == "00:00:00:29.000"
    assert live_link_timecode(30, 29.97) == "00:00:01:00.030"  # frame 30 at 29.97 fps: 1.001 s = 0.03 frame past 1 s


def test_plot_of_a_long_clip_is_binned(tmp_path) -> None:
    """An hour at 30 fps is drawn as bin means (the PNG has 1200 px of width), not 108000 columns."""
    from avs_emotalk.export import PLOT_MAX_COLUMNS, write_plot

    frames = 3 * PLOT_MAX_COLUMNS + 7
    data = np.zeros((frames, 52), np.float32)
    data[: frames // 2, INDEX["jawOpen"]] = 1.0
    path = write_plot(Motion("blendshapes", data, 30.0, {}), tmp_path / "long.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
