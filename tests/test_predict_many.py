"""``avs predict`` over many files in one process (issue 13 item 2), and ``avs.load``.

Short clips of real speech at a small render size keep each run quick; the s2g bundled checkpoint
does the work. Every bad input is one ``error: <file>: <reason>`` line, the good outputs stay.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from avs.errors import AvsError
from avs.video import probe_video
from cli_helpers import assert_one_error_line, run_cli

SMALL = ["render.width=128", "render.height=72"]


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def _clip(speech_path: Path, path: Path, seconds: float, offset: float = 0.0) -> Path:
    audio, sr = sf.read(speech_path, dtype="float32")
    start = int(offset * sr)
    sf.write(path, audio[start: start + int(seconds * sr)], sr)
    return path


@pytest.fixture()
def talks(tmp_path: Path, speech_path: Path) -> Path:
    """talks/a.wav (1 s), talks/b.flac (2 s), talks/notes.txt: the folder a user points avs at."""
    folder = tmp_path / "talks"
    folder.mkdir()
    _clip(speech_path, folder / "a.wav", 1.0)
    _clip(speech_path, folder / "b.flac", 2.0, offset=2.0)
    (folder / "notes.txt").write_text("not audio\n")
    return folder


def _error_lines(stderr: str) -> list[str]:
    return [ln for ln in stderr.splitlines() if ln.strip()]


def test_several_files_keep_going_past_bad_ones(tmp_path: Path, talks: Path):
    (tmp_path / "corrupt.wav").write_text("this is not audio, just text\n" * 50)
    result = run_cli("predict", "s2g", "talks/a.wav", "corrupt.wav", "missing.wav", "talks/b.flac", *SMALL,
                     "--out", "outs", "--save-npz", cwd=tmp_path)
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = _error_lines(result.stderr)
    assert len(lines) == 2, result.stderr
    assert lines[0].startswith("error: corrupt.wav: "), lines[0]
    assert lines[1].startswith("error: missing.wav: ") and "not found" in lines[1], lines[1]
    assert "Traceback" not in result.stderr + result.stdout
    assert _files(tmp_path / "outs") == {"a.mp4", "a.npz", "b.mp4", "b.npz"}  # no half-written file
    for stem, seconds in (("a", 1.0), ("b", 2.0)):
        info = probe_video(tmp_path / "outs" / f"{stem}.mp4")
        assert info.num_frames == round(seconds * 15) and info.has_audio
        assert (info.width, info.height) == (128, 72)  # the overrides apply to every file
        with np.load(tmp_path / "outs" / f"{stem}.npz") as npz:
            assert npz["keypoints"].shape == (round(seconds * 15), 49, 2)
    assert "2 of 4 files done, 2 failed" in result.stdout


def test_folder_takes_its_audio_files_sorted(tmp_path: Path, talks: Path):
    result = run_cli("predict", "s2g", "talks", *SMALL, "--out", "outs", "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert _files(tmp_path / "outs") == {"a.mp4", "b.mp4"}  # notes.txt is not audio
    assert result.stdout.index("a.mp4") < result.stdout.index("b.mp4")
    assert "2 of 2 files done" in result.stdout


def test_quoted_glob_is_expanded_by_avs(tmp_path: Path, talks: Path):
    result = run_cli("predict", "s2g", "talks/*.wav", *SMALL, cwd=tmp_path)  # no --out: <stem>_<plugin>.mp4
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "a_s2g.mp4").is_file()
    assert not (tmp_path / "b_s2g.mp4").exists()


@pytest.mark.parametrize(("make", "arg", "message"), [
    (lambda d: (d / "empty").mkdir(), "empty", "no audio files in folder empty"),
    (lambda d: None, "talks/*.ogg", "no file matches"),
], ids=["empty-folder", "glob-matching-nothing"])
def test_nothing_to_do_is_one_error(tmp_path: Path, talks: Path, make, arg: str, message: str):
    make(tmp_path)
    before = _files(tmp_path)
    assert_one_error_line(run_cli("predict", "s2g", arg, "--out", "outs", cwd=tmp_path), message)
    assert _files(tmp_path) == before


def test_same_stem_is_refused_before_any_work(tmp_path: Path, talks: Path):
    _clip(tmp_path / "talks" / "a.wav", tmp_path / "a.flac", 1.0)
    before = _files(tmp_path)
    line = assert_one_error_line(run_cli("predict", "s2g", "talks/a.wav", "a.flac", "--out", "outs",
                                         cwd=tmp_path), "same name")
    assert "talks/a.wav" in line and "a.flac" in line
    assert _files(tmp_path) == before


@pytest.mark.parametrize(("args", "message"), [
    (["--out", "taken"], "is a file, not a folder"),
    (["--out", "talk.mp4"], "must be a folder"),
    (["--out", "talks"], "would replace the input"),
    (["--face", "talks/a.wav"], "s2g takes no input 'face'"),
], ids=["out-is-a-file", "out-is-an-mp4-name", "out-over-an-input", "option-checked-for-all"])
def test_several_files_checked_before_any_work(tmp_path: Path, talks: Path, args: list[str], message: str):
    (tmp_path / "taken").write_text("a file\n")
    (talks / "c.mp4").write_bytes(b"not really a video")
    before = _files(tmp_path)
    result = run_cli("predict", "s2g", "talks/a.wav", "talks/c.mp4", "missing.wav", *args, cwd=tmp_path)
    assert_one_error_line(result, message)
    assert _files(tmp_path) == before


def test_model_is_built_once_for_many_files(tmp_path: Path, talks: Path, monkeypatch: pytest.MonkeyPatch,
                                            speech_path: Path):
    import avs.runtime
    from avs import cli

    builds = []
    real = avs.runtime.load_inference  # builds the torch implementation or the ONNX runtime, whichever runs

    def spy(*args, **kwargs):
        builds.append(args[0].name)
        return real(*args, **kwargs)

    monkeypatch.setattr(avs.runtime, "load_inference", spy)
    _clip(speech_path, talks / "c.wav", 1.0, offset=4.0)
    monkeypatch.chdir(tmp_path)
    cli.main(["predict", "s2g", "talks", *SMALL, "--out", "outs", "--quiet"])
    assert builds == ["s2g"]
    assert _files(tmp_path / "outs") == {"a.mp4", "b.mp4", "c.mp4"}


def test_avs_load_predicts_and_renders(tmp_path: Path, speech_path: Path):
    import avs
    from avs.model import Model, load

    assert avs.load is load and "load" in dir(avs)
    model = avs.load("s2g", overrides=SMALL)
    assert isinstance(model, Model)
    audio = sf.read(speech_path, dtype="float32")[0][:16000]
    motion = model.predict(audio)
    assert motion.data.shape == (15, 49, 2) and motion.fps == 15.0
    out = model.render(motion, tmp_path / "one.mp4")
    info = probe_video(out)
    assert info.num_frames == 15 and info.has_audio and (info.width, info.height) == (128, 72)
    with pytest.raises(AvsError, match="mono"):
        model.predict(np.zeros((2, 16000), np.float32))


def test_import_avs_and_avs_load_stay_torch_free():
    code = ("import sys\nimport avs\nbefore = 'torch' in sys.modules\nf = avs.load\n"
            "print(before, 'torch' in sys.modules, f.__module__)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False", "avs.model"]
