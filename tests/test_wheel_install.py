"""Built wheels, installed non-editable into a fresh venv, work without the source tree.

The bundled speech (``avs/data/speech``) and the bundled checkpoints are package data, so
``avs data synth`` and ``avs predict`` need nothing from the repository (issue 8 item 9).
Offline and without downloads: wheels are built with ``--no-build-isolation --no-index`` and
installed with ``--no-deps``; third-party packages come from the test venv (see venv_helpers).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import soundfile as sf

from avs.video import probe_video
from venv_helpers import build_wheel, make_venv, pip_install

REPO = Path(__file__).resolve().parents[1]
PLUGINS = ("s2g", "sdt", "emotalk")


@pytest.fixture(scope="module")
def wheel_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv with avs-toolkit and the first-party plugins installed from freshly built wheels."""
    work = tmp_path_factory.mktemp("wheels")
    wheels = work / "dist"
    built = [build_wheel(REPO, work / "src", wheels, include=("pyproject.toml", "README.md", "core"))]
    built += [build_wheel(REPO / "plugins" / name, work / "src", wheels) for name in PLUGINS]
    python = make_venv(work / "venv")
    pip_install(python, *map(str, built))
    return python


def _run(python: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1", COLUMNS="200")
    return subprocess.run([str(python.parent / args[0]), *args[1:]], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=900)


@pytest.mark.slow
def test_wheels_give_working_synth_and_predict(wheel_venv: Path, tmp_path: Path):
    where = _run(wheel_venv, "python", "-c",
                 "import avs, avs_s2g; from avs.synth import bundled_speech; "
                 "print(avs.__file__); print(avs_s2g.__file__); print(bundled_speech())", cwd=tmp_path)
    assert where.returncode == 0, where.stderr
    venv_root = str(wheel_venv.parent.parent)
    lines = where.stdout.split()
    assert all(line.startswith(venv_root) for line in lines), lines  # not the source tree
    speech = Path(lines[2])

    listed = _run(wheel_venv, "avs", "plugins", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    for name in PLUGINS:
        assert any(f" {name} " in line and " ok " in line for line in listed.stdout.splitlines()), listed.stdout
        info = _run(wheel_venv, "avs", "info", name, cwd=tmp_path)
        assert info.returncode == 0, info.stderr
        assert f"bundled checkpoint: {venv_root}" in info.stdout, info.stdout  # package data, in the venv

    synth = _run(wheel_venv, "avs", "data", "synth", "s2g", "data", cwd=tmp_path)
    assert synth.returncode == 0, synth.stderr
    assert (tmp_path / "data" / "train.csv").is_file()

    out = tmp_path / "speech_s2g.mp4"
    predict = _run(wheel_venv, "avs", "predict", "s2g", str(speech), "--out", str(out), cwd=tmp_path)
    assert predict.returncode == 0, predict.stderr
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        pass
    else:  # the bundled ONNX graph is package data too, and fits the bundled checkpoint
        assert "; onnx)" in predict.stdout and "note:" not in predict.stderr, (predict.stdout, predict.stderr)
    duration = sf.info(str(speech)).duration
    assert probe_video(out).num_frames == round(duration * 15)
