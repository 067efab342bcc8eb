"""The CLI as a user meets it: end to end on real speech, and every bad input of issue 2.

Each bad input must give exactly one readable line on stderr, exit status 2, no traceback
and no output file left behind.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from avs.video import probe_video
from cli_helpers import assert_one_error_line, run_cli


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def assert_clean_failure(result, must_contain: str, folder: Path | None = None, before: set[str] | None = None):
    """One line on stderr starting with 'error:', exit 2, no traceback, nothing new on disk."""
    assert_one_error_line(result, must_contain)
    if folder is not None:
        assert _files(folder) == before, f"files left behind: {_files(folder) - before}"


@pytest.fixture()
def workdir(tmp_path: Path, speech_path: Path) -> Path:
    shutil.copy(speech_path, tmp_path / "speech.wav")
    return tmp_path


def test_predict_real_speech_default_checkpoint(workdir: Path):
    out = workdir / "talk.mp4"
    result = run_cli("predict", "s2g", "speech.wav", "--out", str(out), "--save-npz", cwd=workdir)
    assert result.returncode == 0, result.stderr
    duration = sf.info(workdir / "speech.wav").duration
    expected = round(duration * 15)
    info = probe_video(out)
    assert info.num_frames == expected
    assert info.fps == pytest.approx(15.0)
    assert info.has_audio
    assert info.duration == pytest.approx(duration, abs=1 / 15 + 1e-3)
    assert info.audio_duration == pytest.approx(duration, abs=0.1)
    with np.load(workdir / "talk.npz") as npz:
        keypoints = npz["keypoints"]
        assert float(npz["fps"]) == 15.0
    assert keypoints.shape == (expected, 49, 2) and keypoints.dtype == np.float32
    assert np.isfinite(keypoints).all()
    # the figure moves with speech: wrists travel more than a pixel over the clip
    assert np.ptp(keypoints[:, [3, 6]], axis=0).max() > 1.0


def test_predict_silence_is_a_still_figure(workdir: Path):
    sf.write(workdir / "silence.wav", np.zeros(16000 * 2, np.float32), 16000)
    result = run_cli("predict", "s2g", "silence.wav", "--out", "still.mp4", "--save-npz", cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert probe_video(workdir / "still.mp4").num_frames == 30
    with np.load(workdir / "still.npz") as npz:
        keypoints = npz["keypoints"]
    assert np.isfinite(keypoints).all()
    # constant input → (nearly) constant output away from the window edges
    assert np.abs(np.diff(keypoints[4:-4], axis=0)).max() < 5.0


def test_predict_other_format_and_rate(workdir: Path, speech_path: Path):
    audio, sr = sf.read(speech_path, dtype="float32")
    stereo = np.stack([audio[: sr * 2], audio[: sr * 2] * 0.5], axis=1)
    import librosa

    sf.write(workdir / "stereo44k.flac", librosa.resample(stereo.T, orig_sr=sr, target_sr=44100).T, 44100)
    result = run_cli("predict", "s2g", "stereo44k.flac", "--out", "flac.mp4", cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert probe_video(workdir / "flac.mp4").num_frames == 30


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (None, "not found"),
        (lambda p: p.write_bytes(b""), "empty"),
        (lambda p: p.write_text("this is not audio, just text\n" * 50), "not"),
        ("truncated", "truncated"),
        (lambda p: sf.write(p, np.zeros(400, np.float32), 16000), "shorter than one frame"),
    ],
    ids=["missing", "empty", "text-named-wav", "truncated-wav", "shorter-than-a-frame"],
)
def test_predict_bad_audio(workdir: Path, make, message: str):
    bad = workdir / "bad.wav"
    if make == "truncated":
        data = (workdir / "speech.wav").read_bytes()
        bad.write_bytes(data[: len(data) // 3])
    elif make is not None:
        make(bad)
    before = _files(workdir)
    result = run_cli("predict", "s2g", "bad.wav", "--out", "out.mp4", "--save-npz", cwd=workdir)
    assert_clean_failure(result, message, workdir, before)


def test_unknown_plugin(workdir: Path):
    before = _files(workdir)
    assert_clean_failure(run_cli("predict", "nosuch", "speech.wav", cwd=workdir), "unknown plugin", workdir, before)


def test_unknown_override(workdir: Path):
    before = _files(workdir)
    result = run_cli("predict", "s2g", "speech.wav", "model.nonsense=3", "--out", "o.mp4", cwd=workdir)
    assert_clean_failure(result, "unknown option 'model.nonsense'", workdir, before)
    result = run_cli("predict", "s2g", "speech.wav", "render.height=tall", "--out", "o.mp4", cwd=workdir)
    assert_clean_failure(result, "render.height", workdir, before)


def test_checkpoint_of_another_method(workdir: Path):
    from avs.checkpoint import save_checkpoint
    from avs.config import build_config
    from toy_method import build_generator, make_method

    toy = make_method(name="toy")
    cfg = build_config(toy.config_class)
    save_checkpoint(workdir / "toy.safetensors", build_generator(cfg).state_dict(), method=toy, cfg=cfg,
                    stats={"mean": np.zeros(3, np.float32)})
    before = _files(workdir)
    result = run_cli("predict", "s2g", "speech.wav", "--checkpoint", "toy.safetensors", "--out", "o.mp4",
                     cwd=workdir)
    assert_clean_failure(result, "made for method 'toy', not 's2g'", workdir, before)


@pytest.mark.parametrize("content", [b"", b"\x00" * 64, b"not a checkpoint at all" * 10],
                         ids=["empty", "zeros", "text"])
def test_corrupt_checkpoint(workdir: Path, content: bytes):
    (workdir / "bad.safetensors").write_bytes(content)
    before = _files(workdir)
    result = run_cli("predict", "s2g", "speech.wav", "--checkpoint", "bad.safetensors", "--out", "o.mp4",
                     cwd=workdir)
    assert_clean_failure(result, "bad.safetensors", workdir, before)


def test_truncated_bundled_checkpoint(workdir: Path):
    from avs.plugins import discover

    bundled = discover().get("s2g").default_checkpoint
    data = Path(bundled).read_bytes()
    (workdir / "cut.safetensors").write_bytes(data[: len(data) // 2])
    before = _files(workdir)
    result = run_cli("predict", "s2g", "speech.wav", "--checkpoint", "cut.safetensors", "--out", "o.mp4",
                     cwd=workdir)
    assert_clean_failure(result, "cut.safetensors", workdir, before)


def test_output_must_be_mp4(workdir: Path):
    before = _files(workdir)
    assert_clean_failure(run_cli("predict", "s2g", "speech.wav", "--out", "o.avi", cwd=workdir), ".mp4",
                         workdir, before)


@pytest.fixture(scope="module")
def synth_data(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("synth") / "data"
    result = run_cli("data", "synth", "s2g", str(root))
    assert result.returncode == 0, result.stderr
    return root


def test_data_without_train_csv(workdir: Path):
    (workdir / "empty_data").mkdir()
    before = _files(workdir)
    for verb in (["train", "s2g", "--out", "run"], ["evaluate", "s2g"]):
        result = run_cli(*verb, "--data", "empty_data", cwd=workdir)
        assert_clean_failure(result, "train.csv", workdir, before)


def test_data_rows_with_missing_npz(workdir: Path, synth_data: Path):
    data = workdir / "data"
    shutil.copytree(synth_data, data)
    victims = sorted(data.rglob("*.npz"))[:3]
    for victim in victims:
        victim.unlink()
    before = _files(workdir)
    for verb in (["train", "s2g", "--out", "run"], ["evaluate", "s2g", "--split", "train"]):
        result = run_cli(*verb, "--data", "data", cwd=workdir)
        assert_clean_failure(result, "missing", workdir, before)


def test_data_synth_refuses_non_empty_folder(workdir: Path):
    before = _files(workdir)
    result = run_cli("data", "synth", "s2g", str(workdir), cwd=workdir)
    assert_clean_failure(result, str(workdir.name), workdir, before)


def test_evaluate_json(workdir: Path, synth_data: Path):
    result = run_cli("evaluate", "s2g", "--data", str(synth_data), "--json", "eval.json", cwd=workdir)
    assert result.returncode == 0, result.stderr
    payload = json.loads((workdir / "eval.json").read_text())
    metrics = payload["metrics"]
    assert set(metrics) >= {"l1", "l1_px", "pck@0.1", "pck@0.2"}
    assert 0.0 <= metrics["pck@0.1"] <= metrics["pck@0.2"] <= 1.0
    assert "pck@0.2" in result.stdout


def test_info_shows_paper_defaults():
    result = run_cli("info", "s2g")
    assert result.returncode == 0, result.stderr
    assert "Ginosar" in result.stdout
    assert "width: 256" in result.stdout and "lr_g: 0.0001" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["s2g", "ref.pth", "out.safetensors"], "s2g cannot import weights"),
        (["sdt", "missing.pth", "out.safetensors"], "not found"),
        (["sdt", "ref.pth", "out.txt"], ".safetensors"),
        (["sdt", "ref.pth", "out.safetensors"], "ref.pth"),  # not a torch file at all
    ],
    ids=["method-without-importer", "missing-reference", "wrong-output-suffix", "corrupt-reference"],
)
def test_import_bad_input(workdir: Path, args: list[str], message: str):
    (workdir / "ref.pth").write_bytes(b"this is not a checkpoint" * 20)
    before = _files(workdir)
    assert_clean_failure(run_cli("import", *args, cwd=workdir), message, workdir, before)


@pytest.mark.parametrize(("option", "value", "message"), [
    ("--face", "speech.wav", "s2g takes no input 'face'"),
    ("--target", "nowhere", "s2g takes no input 'target'"),
])
def test_predict_named_inputs_are_checked_before_work(workdir: Path, option: str, value: str, message: str):
    """--face/--landmarks/--drive/--target map to the method's predict_inputs; one it lacks is a clean error."""
    before = _files(workdir)
    result = run_cli("predict", "s2g", "speech.wav", option, value, "--out", "talk.mp4", cwd=workdir)
    assert_clean_failure(result, message, workdir, before)
