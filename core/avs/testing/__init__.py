"""Testing helpers for avs method plugins: a CLI runner and the conformance check.

Install ``avs-toolkit`` and these are available to any plugin's tests; the pytest plugin
:mod:`avs.testing.plugin` (entry point ``pytest11``, loaded automatically) adds the fixtures
``avs_speech``, ``avs_cli`` and ``avs_synth_data``. :func:`check_method` runs a method the way a
user does, through the ``avs`` command line:

1. ``avs plugins`` lists it, and discovering it does not import torch;
2. ``avs data synth`` writes its synthetic data set (unless one is given);
3. ``avs train`` runs a few steps and writes a checkpoint;
4. ``avs predict --save-npz`` turns the bundled speech into an mp4 with exactly ``round(duration * fps)``
   frames and an audio stream;
5. ``avs evaluate`` scores the checkpoint: finite numbers, written to ``--json``;
6. bad input (a text file posing as audio, a missing file, ``train`` without ``--data``) gives
   one ``error:`` line, exit status 2, and no output file;
7. for a method with a torch-free path (``Method.onnx``), when the ``onnx`` extra is installed:
   ``avs export onnx`` writes the checkpoint's sidecar, ``avs predict --backend onnx`` runs without ever
   importing torch, and its motion is compared with ``--backend torch``'s (the largest absolute
   difference is reported; the plugin's test judges it in its own units).

Importing this module does not import torch.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["ConformanceReport", "bundled_speech", "check_method", "run_cli", "synth_data"]

# What the fast conformance training run overrides (core's TrainConfig keys only).
FAST_TRAIN = ("train.epochs=1", "train.iterations_per_epoch=2", "train.batch_size=2", "train.checkpoint_every=1",
              "train.device=cpu", "train.num_workers=0")


def bundled_speech(name: str = "librivox_0870") -> Path:
    """A bundled real-speech recording (LibriVox, 16 kHz mono): ``librivox_0870`` (7.1 s) or ``librivox_0890``."""
    from avs.synth import bundled_speech as _bundled

    return _bundled(name)


def run_cli(*args: str | os.PathLike[str], cwd: str | os.PathLike[str] | None = None,
            env: Mapping[str, str] | None = None, timeout: float = 1800) -> subprocess.CompletedProcess:
    """Run ``avs ARGS`` in a subprocess exactly as a user would.

    Offline (``HF_HUB_OFFLINE=1``), one thread per process (``OMP_NUM_THREADS=1``), wide
    ``COLUMNS``. The same interpreter as the tests runs it (``python -m avs.cli``).

    Returns:
        The completed process: ``returncode``, ``stdout``, ``stderr`` (text).
    """
    full_env = dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1", COLUMNS="200")
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "avs.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env=full_env, timeout=timeout)


def synth_data(name: str, root: str | os.PathLike[str], overrides: Sequence[str] = (), seed: int = 0,
               env: Mapping[str, str] | None = None) -> Path:
    """``avs data synth NAME ROOT`` (ROOT must not exist); returns ROOT.

    Raises:
        AssertionError: the command failed (its stderr in the message).
    """
    root = Path(root)
    result = run_cli("data", "synth", name, root, "--seed", str(seed), *overrides, env=env)
    _expect(result.returncode == 0, f"avs data synth {name} failed", result)
    return root


@dataclass
class ConformanceReport:
    """What :func:`check_method` ran and measured.

    Attributes:
        name: the method.
        fps: its output frame rate (frames/s).
        sample_rate: its audio rate (Hz).
        data: the synthetic data set used.
        checkpoint: the checkpoint trained by the check.
        video: the predicted mp4.
        num_frames: frames in ``video`` (``round(duration * fps)``).
        metrics: ``avs evaluate``'s results on the test split.
        onnx_max_abs_diff: the largest |onnx − torch| of the predicted motion arrays (step 7), or None
            when the method has no ONNX path or onnx/onnxruntime are not installed.
    """

    name: str
    fps: float
    sample_rate: int
    data: Path
    checkpoint: Path
    video: Path
    num_frames: int
    metrics: dict[str, float] = field(default_factory=dict)
    onnx_max_abs_diff: float | None = None


def check_method(name: str, workdir: str | os.PathLike[str], *, data: str | os.PathLike[str] | None = None,
                 train_overrides: Sequence[str] = (), synth_overrides: Sequence[str] = (),
                 speech: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None,
                 split: str = "test") -> ConformanceReport:
    """Run the conformance suite on method ``name`` (steps 1-6 of this module's docstring).

    Args:
        name: the method's CLI name.
        workdir: an empty folder for the data set, run, video and JSON.
        data: an existing data set in the method's format (default: ``avs data synth`` one).
        train_overrides: extra ``key=value`` for ``avs train`` (e.g. a tiny model); they follow
            :data:`FAST_TRAIN` (1 epoch of 2 steps, batch 2, CPU) and may replace its values.
        synth_overrides: ``key=value`` for ``avs data synth``.
        speech: the audio to predict from (default: the bundled ``librivox_0890``, 5.3 s).
        env: extra environment variables for every command.
        split: the split ``avs evaluate`` scores.

    Returns:
        A :class:`ConformanceReport`.

    Raises:
        AssertionError: the first step that does not conform, with the command's stderr.
    """
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    fps, sample_rate = _check_listed(name, env)
    if data is None:
        data = synth_data(name, workdir / "data", synth_overrides, env=env)
    data = Path(data)

    run_dir = workdir / "run"
    result = run_cli("train", name, "--data", data, "--out", run_dir, *FAST_TRAIN, *train_overrides, env=env)
    _expect(result.returncode == 0, f"avs train {name} failed", result)
    checkpoint = next((run_dir / f for f in ("best.safetensors", "last.safetensors") if (run_dir / f).is_file()),
                      None)
    _expect(checkpoint is not None, f"avs train {name} wrote no best/last.safetensors in {run_dir}", result)

    speech = Path(speech) if speech is not None else bundled_speech("librivox_0890")
    video = workdir / "predicted.mp4"
    result = run_cli("predict", name, speech, "--checkpoint", checkpoint, "--out", video, "--save-npz", env=env)
    _expect(result.returncode == 0, f"avs predict {name} failed", result)
    num_frames = _check_video(video, speech, fps, sample_rate)

    results_json = workdir / "evaluate.json"
    result = run_cli("evaluate", name, "--data", data, "--checkpoint", checkpoint, "--split", split,
                     "--json", results_json, env=env)
    _expect(result.returncode == 0, f"avs evaluate {name} failed", result)
    metrics = json.loads(results_json.read_text())["metrics"]
    _expect(bool(metrics), f"avs evaluate {name} reported no metrics", result)
    bad = {k: v for k, v in metrics.items() if not isinstance(v, (int, float)) or not math.isfinite(v)}
    _expect(not bad, f"avs evaluate {name} reported non-finite metrics {bad}", result)

    _check_bad_input(name, workdir, checkpoint, env)
    onnx_diff = _check_onnx(name, workdir, checkpoint, speech, video, env) if _onnx_checkable(name) else None
    return ConformanceReport(name, fps, sample_rate, data, checkpoint, video, num_frames,
                             {k: float(v) for k, v in metrics.items()}, onnx_diff)


def _onnx_checkable(name: str) -> bool:
    """The method has a torch-free path and the ``onnx`` extra is installed."""
    import importlib.util

    from avs.plugins import discover

    method = discover().get(name)
    return method.onnx is not None and all(importlib.util.find_spec(m) for m in ("onnx", "onnxruntime"))


_TORCH_FREE = """
import atexit, sys
atexit.register(lambda: print("torch imported: " + str("torch" in sys.modules), file=sys.stderr))
from avs.cli import main
main(sys.argv[1:])
"""


def _check_onnx(name: str, workdir: Path, checkpoint: Path, speech: Path, video: Path,
                env: Mapping[str, str] | None) -> float:
    """Step 7: export, a torch-free ``--backend onnx`` predict, and its motion against step 4's (torch: a
    freshly trained checkpoint has no sidecar yet)."""
    import numpy as np

    from avs.runtime import sidecar_path

    result = run_cli("export", "onnx", name, checkpoint, env=env)
    _expect(result.returncode == 0 and sidecar_path(checkpoint).is_file(), f"avs export onnx {name} failed", result)
    out = workdir / "predicted_onnx.mp4"
    args = ["predict", name, str(speech), "--checkpoint", str(checkpoint), "--out", str(out), "--backend", "onnx",
            "--save-npz"]
    full_env = dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1", COLUMNS="200", **(env or {}))
    result = subprocess.run([sys.executable, "-c", _TORCH_FREE, *args], capture_output=True, text=True,
                            env=full_env, timeout=1800)
    _expect(result.returncode == 0, f"avs predict {name} --backend onnx failed", result)
    _expect("torch imported: False" in result.stderr, f"avs predict {name} --backend onnx imported torch", result)
    motions = []
    for path in (video.with_suffix(".npz"), out.with_suffix(".npz")):
        with np.load(path) as npz:
            motions.append({k: npz[k] for k in npz.files if npz[k].dtype.kind == "f" and npz[k].ndim >= 1})
    torch_motion, onnx_motion = motions
    _expect(torch_motion.keys() == onnx_motion.keys() and all(
        torch_motion[k].shape == onnx_motion[k].shape for k in torch_motion),
        f"avs predict {name}: the onnx backend's motion differs in arrays or shapes from torch's", result)
    return max((float(np.abs(onnx_motion[k].astype(np.float64) - torch_motion[k]).max(initial=0.0))
                for k in torch_motion), default=0.0)


_LISTING = """
import json, sys
from avs.cli import main
main(["plugins"])
from avs.plugins import discover
method = discover().get(sys.argv[1])
print(json.dumps({"torch": "torch" in sys.modules, "fps": method.fps, "sample_rate": method.sample_rate}))
"""


def _check_listed(name: str, env: Mapping[str, str] | None) -> tuple[float, int]:
    full_env = dict(os.environ, HF_HUB_OFFLINE="1", COLUMNS="200")
    full_env.update(env or {})
    result = subprocess.run([sys.executable, "-c", _LISTING, name], capture_output=True, text=True, env=full_env,
                            timeout=300)
    _expect(result.returncode == 0, f"avs plugins / discovering {name} failed", result)
    lines = result.stdout.strip().splitlines()
    _expect(any(f" {name} " in line and " ok " in line for line in lines[:-1]),
            f"avs plugins does not list {name} as ok", result)
    facts = json.loads(lines[-1])
    _expect(not facts["torch"], f"listing or discovering {name} imports torch (heavy imports belong in the impl)",
            result)
    return float(facts["fps"]), int(facts["sample_rate"])


def _check_video(video: Path, speech: Path, fps: float, sample_rate: int) -> int:
    from avs.audio import load_audio
    from avs.video import probe_video

    duration = len(load_audio(speech, sample_rate)) / sample_rate
    info = probe_video(video)
    expected = round(duration * fps)
    if info.num_frames != expected:
        raise AssertionError(f"{video}: {info.num_frames} frames, expected round({duration:.3f} s * {fps:g}) = "
                             f"{expected}")
    if not info.has_audio:
        raise AssertionError(f"{video} has no audio stream")
    return info.num_frames


def _check_bad_input(name: str, workdir: Path, checkpoint: Path, env: Mapping[str, str] | None) -> None:
    not_audio = workdir / "not-audio.wav"
    not_audio.write_text("this is text, not audio\n" * 20)
    cases = {
        "text posing as audio": ("predict", name, not_audio, "--checkpoint", checkpoint, "--out",
                                 workdir / "bad1.mp4"),
        "missing audio": ("predict", name, workdir / "missing.wav", "--checkpoint", checkpoint, "--out",
                          workdir / "bad2.mp4"),
        "train without --data": ("train", name, "--out", workdir / "bad-run"),
    }
    for what, args in cases.items():
        result = run_cli(*args, env=env)
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        ok = (result.returncode == 2 and len(lines) == 1 and lines[0].startswith("error: ")
              and "Traceback" not in result.stderr)
        _expect(ok, f"{what}: expected one 'error:' line and exit status 2", result)
    left = [p.name for p in (workdir / "bad1.mp4", workdir / "bad2.mp4", workdir / "bad-run") if p.exists()]
    if left:
        raise AssertionError(f"bad input left output behind: {left}")


def _expect(condition: bool, message: str, result: subprocess.CompletedProcess) -> None:
    if not condition:
        raise AssertionError(f"{message} (exit status {result.returncode})\n"
                             f"stdout:\n{result.stdout[-3000:]}\nstderr:\n{result.stderr[-3000:]}")
