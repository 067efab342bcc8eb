"""`avs data prepare face`: format, frame-rate resampling, audio sync, several faces, bad input, resume."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from avs.errors import AvsError
from cli_helpers import run_cli
from face_helpers import astronaut, moving, requires_face, sample_video, two_face_canvas, write_clip

pytestmark = requires_face


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    import imageio.v3 as iio

    d = tmp_path_factory.mktemp("face-media")
    out = {
        "two_faces": write_clip(d / "two_faces.mp4", moving(two_face_canvas(), 45, 4.0), fps=30.0),  # 1.5 s
        "astro": write_clip(d / "astro.mp4", moving(astronaut()[::2, ::2].copy(), 40), fps=25.0),  # 1.6 s
        "noface": write_clip(d / "noface.mp4", [np.full((96, 96, 3), 90 + i, np.uint8) for i in range(30)], 25.0),
        "silent": write_clip(d / "silent.mp4", moving(two_face_canvas(), 30), 25.0, audio=False),
    }
    out["empty"] = d / "empty.mp4"
    out["empty"].write_bytes(b"")
    out["still"] = d / "still.png"
    iio.imwrite(out["still"], astronaut())
    data = out["astro"].read_bytes()
    out["truncated"] = d / "truncated.mp4"
    out["truncated"].write_bytes(data[: len(data) // 3])
    return out


def _arrays(root: Path, name: str) -> dict[str, np.ndarray]:
    with np.load(root / name / "track.npz", allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def test_prepare_format_resampling_and_two_faces(clips, tmp_path):
    import imageio_ffmpeg
    import soundfile as sf

    from avs.face import OpenFaceModel, open_face_data
    from avs.face.prepare import prepare_face_data

    out = tmp_path / "faces"
    rows = prepare_face_data([clips["two_faces"]], out, progress=False)
    T = rows[0].frames
    assert abs(T - 1.5 * 25) <= 1  # 45 frames at 30 fps → 37-38 frames at 25 fps
    index = json.loads((out / "index.json").read_text())
    assert index["format"] == "avs-face-data" and index["version"] == 1 and index["fps"] == 25
    split = index["videos"][0]["split"]
    assert split["train"][0] == 0 and split["test"][1] == T and split["train"][1] == split["dev"][0]
    audio, sr = sf.read(out / "two_faces" / "audio.wav")
    assert sr == 16000 and len(audio) == T * 640
    assert imageio_ffmpeg.count_frames_and_secs(str(out / "two_faces" / "frames.mp4"))[0] == T
    meta = json.loads((out / "two_faces" / "meta.json").read_text())
    assert meta["multi_face_frames"] >= T - 2 and meta["max_faces"] == 2
    assert any("largest" in note for note in meta["notes"])
    track = open_face_data(out).videos[0].track
    assert track["valid"].all()
    assert (track["box"][:, 2] < 250).all()  # the larger face is the left one
    assert track["lm68"].shape == (T, 68, 2) and track["lm478"].shape == (T, 478, 3)
    assert track["exp"].shape == (T, 64) and np.isfinite(track["exp"]).all()
    assert track["euler"].shape == (T, 3) and np.abs(track["euler"]).max() < 0.6
    assert abs(np.linalg.norm(track["identity"]) - 1) < 1e-5
    frames = open_face_data(out).videos[0].read_frames(5, 8)
    assert frames.shape == (3, 240, 440, 3)

    # the test split as face-image clips: fixed square crops, landmarks moved into the crop
    from avs.face import real_clips

    clips_test = real_clips(out, "test", 64)
    a, b = split["test"]
    assert clips_test.real[0].shape == (b - a, 64, 64, 3) and len(clips_test.audio[0]) == (b - a) * 640
    lm = clips_test.lm68_real[0]
    assert lm.shape == (b - a, 68, 2) and (lm > 0).all() and (lm < 64).all()

    # a new face model refits the expression of complete videos without tracking them again
    default = OpenFaceModel.load_default()
    small = OpenFaceModel(default.basis[:8], default.mean, default.stddev[:8], "test-small")
    assert prepare_face_data([clips["two_faces"]], out, model=small, progress=False)[0].status == "refit"
    refit = open_face_data(out).videos[0]
    assert refit.meta["face_model"] == "test-small" and refit.track["exp"].shape == (T, 8)
    np.testing.assert_array_equal(refit.track["lm478"], track["lm478"])
    np.testing.assert_allclose(refit.track["exp"], track["exp"][:, :8], atol=1e-4)
    assert prepare_face_data([clips["two_faces"]], out, progress=False)[0].status == "refit"
    assert prepare_face_data([clips["two_faces"]], out, progress=False)[0].status == "kept"


@pytest.mark.parametrize("kind, message", [
    ("empty", "empty"), ("still", "still image"), ("silent", "no audio"), ("truncated", "cannot read"),
    ("missing", "not found"),
])
def test_bad_input_one_error_line_nothing_written(clips, tmp_path, kind, message):
    video = clips.get(kind, tmp_path / "missing.mp4")
    out = tmp_path / "out"
    res = run_cli("data", "prepare", "face", str(clips["astro"]), str(video), str(out))
    assert res.returncode == 2, res.stderr
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0], res.stderr
    assert not out.exists()


def test_video_without_a_face_leaves_nothing(clips, tmp_path):
    out = tmp_path / "out"
    res = run_cli("data", "prepare", "face", str(clips["noface"]), str(out))
    assert res.returncode == 2 and "no face" in res.stderr, res.stderr
    assert not out.exists()


def test_folder_without_index(tmp_path):
    from avs.face import open_face_data

    with pytest.raises(AvsError, match="index.json"):
        open_face_data(tmp_path)
    res = run_cli("data", "build-face-model", str(tmp_path), str(tmp_path / "m.npz"))
    assert res.returncode == 2 and res.stderr.startswith("error:") and "index.json" in res.stderr
    assert not (tmp_path / "m.npz").exists()


def test_killed_run_resumes_to_the_uninterrupted_result(clips, tmp_path):
    import soundfile as sf

    videos = [str(clips["astro"]), str(clips["two_faces"])]
    whole = tmp_path / "whole"
    assert run_cli("data", "prepare", "face", *videos, str(whole), "--quiet").returncode == 0

    killed = tmp_path / "killed"
    cmd = [sys.executable, "-m", "avs.cli", "data", "prepare", "face", *videos, str(killed), "--quiet"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while not (killed / "astro" / "meta.json").exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert (killed / "astro" / "meta.json").exists()
    assert not (killed / "two_faces").exists(), "the second video finished before the kill: nothing resumed"

    res = run_cli("data", "prepare", "face", *videos, str(killed), "--quiet")
    assert res.returncode == 0, res.stderr
    assert "kept" in res.stdout and "done" in res.stdout
    assert not list(killed.glob(".*.partial"))
    assert json.loads((killed / "index.json").read_text())["videos"] == \
        json.loads((whole / "index.json").read_text())["videos"]
    for name in ("astro", "two_faces"):
        a, b = _arrays(whole, name), _arrays(killed, name)
        assert a.keys() == b.keys()
        for key in a:
            np.testing.assert_array_equal(a[key], b[key], err_msg=f"{name}/{key}")
        np.testing.assert_array_equal(sf.read(whole / name / "audio.wav")[0], sf.read(killed / name / "audio.wav")[0])


def test_real_video_first_two_seconds(tmp_path):
    """HDTF clip, first 50 frames: every face found, low jitter, audio in sync, identity consistent."""
    import imageio_ffmpeg

    from avs.face import face_embedding, open_face_data
    from avs.face.prepare import prepare_face_data

    src = sample_video("hdtf_WDA_KatieHill_000.mp4")
    cut = tmp_path / "katie.mp4"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(src), "-t", "2", "-c:v", "libx264",
                    "-crf", "12", "-c:a", "aac", str(cut)], check=True)
    rows = prepare_face_data([cut], tmp_path / "faces", progress=False)
    r = rows[0]
    assert r.frames == 50 and r.faces_found == 50 and r.multi_face_frames == 0
    assert r.jitter_px < r.jitter_raw_px < 4.0
    assert r.recon_px < 1.0
    video = open_face_data(tmp_path / "faces").video("katie")
    assert len(video.audio()) == 50 * 640
    assert video.split_ranges == {"train": (0, 38), "dev": (38, 44), "test": (44, 50)}
    frame = video.read_frames(20, 21)[0]
    e = face_embedding(frame, video.track["lm68"][20])
    assert float(e @ video.track["identity"]) > 0.9
