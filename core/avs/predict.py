"""Library side of ``avs predict`` and ``avs evaluate``: audio → motion → mp4, and scoring.

Data flow (``docs/design.md``): audio file → :mod:`avs.audio` → the method's
``MethodImpl.predict`` → :class:`Motion` → its ``renderer()`` → :mod:`avs.video` writes the mp4
with the sound → its ``export`` writes any extra files.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from avs.errors import AvsError
from avs.motion import Motion, frames_for_duration


@dataclass(frozen=True)
class PredictResult:
    """What :func:`predict_to_video` wrote.

    Attributes:
        video: the mp4 (H.264 + AAC).
        npz: the motion arrays, when asked for.
        num_frames: video frames written, ``round(duration * fps)``.
        fps: frames per second.
        duration: audio length in seconds.
        motion: the motion itself (in memory).
        extra: further files the method's ``export`` wrote (CSV, plots, ...).
        backend: the inference backend that ran, ``torch`` or ``onnx`` (:mod:`avs.runtime`).
    """

    video: Path
    npz: Path | None
    num_frames: int
    fps: float
    duration: float
    motion: Motion
    extra: list[Path]
    backend: str = "torch"


def fit_length(motion: Motion, num_frames: int) -> Motion:
    """Crop, or pad by repeating the last frame, so that ``motion`` has ``num_frames`` frames.

    Methods derive their length from the audio with their own rounding (s2g: ``floor``);
    the video must hold exactly ``round(duration * fps)`` frames to stay in sync.
    """
    if motion.num_frames == 0:
        raise AvsError("the method produced no frames for this audio")
    if motion.num_frames == num_frames:
        return motion

    def fit(arr: np.ndarray) -> np.ndarray:
        if len(arr) >= num_frames:
            return arr[:num_frames]
        pad = np.repeat(arr[-1:], num_frames - len(arr), axis=0)
        return np.concatenate([arr, pad], axis=0)

    extras = {k: fit(v) for k, v in motion.extras.items() if len(v) == motion.num_frames}
    return Motion(motion.kind, fit(motion.data), motion.fps, extras)


def fit_audio_length(audio: np.ndarray, num_frames: int, fps: float, sample_rate: int) -> np.ndarray:
    """``audio`` trimmed (a view) or zero-padded to ``round(num_frames / fps · sample_rate)`` samples, the
    length :func:`avs.video.write_video` fits the sound track to (so it need not copy it again)."""
    want = int(round(num_frames / fps * sample_rate))
    if len(audio) >= want:
        return audio[:want]
    out = np.zeros((want, *audio.shape[1:]), dtype=audio.dtype)
    out[: len(audio)] = audio
    return out


def predict_to_video(method: Any, audio_path: str | Path, checkpoint: str | Path, out: str | Path,
                     overrides: Sequence[str] = (), save_npz: bool = False,
                     inputs: Mapping[str, str | Path] | None = None, backend: str = "auto",
                     on_note: Callable[[str], None] | None = None) -> PredictResult:
    """Run ``method`` on one audio file and write an mp4 with the sound muxed in.

    Args:
        method: an :class:`avs.method.Method`.
        audio_path: any format soundfile/librosa reads, any rate.
        checkpoint: a safetensors checkpoint made for ``method``.
        out: the ``.mp4`` to write (atomically); with ``save_npz`` the motion goes to the
            same name with ``.npz``.
        overrides: ``key=value`` config overrides (e.g. rendering size).
        inputs: extra inputs by name (``method.predict_inputs``) → file paths.
        backend: ``auto`` (the checkpoint's ONNX graph when the method has one and onnxruntime is
            installed, else torch), ``torch`` or ``onnx`` (:func:`avs.runtime.load_inference`).
        on_note: receives notes such as a stale ONNX graph ignored (default :func:`warnings.warn`).

    Raises:
        AvsError: bad audio (missing, empty, corrupt, shorter than one frame), a checkpoint
            of another method or a corrupt one, a bad override, an output that is not .mp4,
            an input the method does not take or a missing input file, ``backend="onnx"`` unusable.
    """
    from avs.audio import load_audio
    from avs.runtime import check_backend, load_inference

    check_backend(backend, method)
    out = Path(out)
    if out.suffix.lower() != ".mp4":
        raise AvsError(f"output must be an .mp4 file, got {out}")
    if out.is_dir():
        raise AvsError(f"output {out} is a directory")
    extra_inputs = check_inputs(method, inputs)
    audio = load_audio(audio_path, method.sample_rate, min_duration=1.0 / method.fps, min_duration_name="one frame")
    loaded = load_inference(method, checkpoint, list(overrides), backend=backend, on_note=on_note)
    motion = loaded.impl.predict(audio, extra_inputs)
    return write_outputs(loaded.impl, motion, audio, out, save_npz, backend=loaded.backend)


def check_inputs(method: Any, inputs: Mapping[str, str | Path] | None) -> dict[str, Path]:
    """``inputs`` as paths, each a name of ``method.predict_inputs`` and an existing file.

    Raises:
        AvsError: an input the method does not take, or a file that does not exist.
    """
    checked = {}
    for name, value in (inputs or {}).items():
        if name not in method.predict_inputs:
            takes = ", ".join(method.predict_inputs) or "none"
            raise AvsError(f"{method.name} takes no input {name!r} (takes: {takes})")
        path = Path(value)
        if not path.exists():
            raise AvsError(f"input {name}: file not found: {path}")
        checked[name] = path
    return checked


def write_outputs(impl: Any, motion: Motion, audio: np.ndarray, out: Path, save_npz: bool = False,
                  backend: str = "torch") -> PredictResult:
    """Fit ``motion`` to the audio's length, render it into ``out`` with the sound, write npz/extras.

    Raises:
        AvsError: the method produced no frames; a renderer or video error.
    """
    from avs.video import write_video

    method = impl.method
    duration = len(audio) / method.sample_rate
    num_frames = frames_for_duration(duration, motion.fps)
    motion = fit_length(motion, num_frames)
    # the sound track at the video's length, the input released: one copy of a long recording while encoding
    audio = fit_audio_length(audio, num_frames, motion.fps, method.sample_rate)
    renderer = impl.renderer()
    write_video(out, renderer.frames(motion), motion.fps, num_frames, audio=audio,
                sample_rate=method.sample_rate, **getattr(renderer, "video_encoding", {}))
    npz = motion.save_npz(out.with_suffix(".npz")) if save_npz else None
    extra = list(impl.export(motion, out))
    return PredictResult(out, npz, num_frames, motion.fps, duration, motion, extra, backend)


@dataclass(frozen=True)
class EvaluationResult:
    """What :func:`evaluate_checkpoint` measured and wrote.

    Attributes:
        metrics: ``{metric name: value}`` as the method's ``evaluate`` defines them.
        videos: example videos written (``videos > 0``), else empty.
    """

    metrics: dict[str, float]
    videos: list[Path]


def evaluate_checkpoint(method: Any, data_root: str | Path, checkpoint: str | Path, split: str = "test",
                        overrides: Sequence[str] = (), videos: int = 0,
                        videos_dir: str | Path | None = None) -> EvaluationResult:
    """Score ``checkpoint`` on one split of a data set in the method's format.

    Normalisation statistics come from the checkpoint (the training data's), not from
    the evaluated data. A method without its own ``evaluate`` but with ``predict_clips`` is
    scored by its task's suite (as in ``avs benchmark``), plus its clips' extras. With
    ``videos > 0`` the method also renders that many clips (prediction beside ground truth)
    into ``videos_dir``.

    Raises:
        AvsError: a missing/bad data set or checkpoint, an empty split, ``videos`` asked of
            a method that cannot render examples.
    """
    from avs.checkpoint import load_impl

    root = Path(data_root)
    if not root.is_dir():
        raise AvsError(f"data folder not found: {root}")
    if videos < 0:
        raise AvsError(f"--videos must be 0 or more (got {videos})")
    cls = method.impl_class()
    suite = _suite_for(method) if "evaluate" not in cls.capabilities() else None
    if suite is None:
        cls.require("evaluate")
    if videos:
        cls.require("render_examples")
    impl = load_impl(method, checkpoint, list(overrides))
    dataset = impl.build_dataset(root, split)
    if len(dataset) == 0:
        raise AvsError(f"the {split} split of {root} is empty")
    metrics = {k: float(v) for k, v in (impl.evaluate(dataset) if suite is None else
                                        _suite_scores(suite, impl.predict_clips(dataset))).items()}
    written: list[Path] = []
    if videos:
        out_dir = Path(videos_dir) if videos_dir is not None else Path(f"{method.name}_{split}_videos")
        written = list(impl.render_examples(dataset, videos, out_dir))
    return EvaluationResult(metrics, written)


def _suite_for(method: Any) -> Any:
    """The task suite of ``method`` if its implementation can give clips, else None."""
    if "predict_clips" not in method.impl_class().capabilities():
        return None
    from avs.plugins import discover

    return discover().suites.get(method.task)


def _suite_scores(suite: Any, clips: Any) -> dict[str, float]:
    scores = dict(suite.score(clips))
    scores.update({k: float(v) for k, v in (getattr(clips, "extras", None) or {}).items() if k not in scores})
    return scores
