"""Library side of ``avs predict`` and ``avs evaluate``: audio → motion → mp4, and scoring.

Data flow (DESIGN.md): audio file → :mod:`avs.audio` → plugin generator → :class:`Motion`
→ plugin renderer → :mod:`avs.video` writes the mp4 with the sound.
"""

from __future__ import annotations

from collections.abc import Sequence
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
        extra: further files the method's ``export_motion`` wrote (CSV, plots, ...).
    """

    video: Path
    npz: Path | None
    num_frames: int
    fps: float
    duration: float
    motion: Motion
    extra: list[Path]


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


def predict_to_video(method: Any, audio_path: str | Path, checkpoint: str | Path, out: str | Path,
                     overrides: Sequence[str] = (), save_npz: bool = False) -> PredictResult:
    """Run ``method`` on one audio file and write an mp4 with the sound muxed in.

    Args:
        method: an :class:`avs.method.Method`.
        audio_path: any format soundfile/librosa reads, any rate.
        checkpoint: a safetensors checkpoint made for ``method``.
        out: the ``.mp4`` to write (atomically); with ``save_npz`` the motion goes to the
            same name with ``.npz``.
        overrides: ``key=value`` config overrides (e.g. rendering size).

    Raises:
        AvsError: bad audio (missing, empty, corrupt, shorter than one frame), a checkpoint
            of another method or a corrupt one, a bad override, an output that is not .mp4.
    """
    from avs.audio import load_audio
    from avs.checkpoint import load_generator
    from avs.video import write_video

    out = Path(out)
    if out.suffix.lower() != ".mp4":
        raise AvsError(f"output must be an .mp4 file, got {out}")
    if out.is_dir():
        raise AvsError(f"output {out} is a directory")
    audio = load_audio(audio_path, method.sample_rate, min_duration=1.0 / method.fps, min_duration_name="one frame")
    generator, cfg, stats = load_generator(method, checkpoint, list(overrides))
    motion = method.predict(generator, audio, cfg, stats)
    duration = len(audio) / method.sample_rate
    num_frames = frames_for_duration(duration, motion.fps)
    motion = fit_length(motion, num_frames)
    renderer = method.build_renderer(cfg, stats)
    write_video(out, renderer.frames(motion), motion.fps, num_frames, audio=audio,
                sample_rate=method.sample_rate, **getattr(renderer, "video_encoding", {}))
    npz = motion.save_npz(out.with_suffix(".npz")) if save_npz else None
    extra = list(method.export_motion(motion, out, cfg)) if method.export_motion is not None else []
    return PredictResult(out, npz, num_frames, motion.fps, duration, motion, extra)


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
    the evaluated data. With ``videos > 0`` the method also renders that many clips
    (prediction beside ground truth) into ``videos_dir``.

    Raises:
        AvsError: a missing/bad data set or checkpoint, an empty split, ``videos`` asked of
            a method that cannot render examples.
    """
    from avs.checkpoint import load_generator

    root = Path(data_root)
    if not root.is_dir():
        raise AvsError(f"data folder not found: {root}")
    if videos < 0:
        raise AvsError(f"--videos must be 0 or more (got {videos})")
    if videos and method.render_examples is None:
        raise AvsError(f"method {method.name!r} cannot render example videos")
    generator, cfg, stats = load_generator(method, checkpoint, list(overrides))
    dataset = method.build_dataset(cfg, root, split, stats)
    if len(dataset) == 0:
        raise AvsError(f"the {split} split of {root} is empty")
    metrics = {k: float(v) for k, v in method.evaluate(generator, dataset, cfg, stats).items()}
    written: list[Path] = []
    if videos:
        out_dir = Path(videos_dir) if videos_dir is not None else Path(f"{method.name}_{split}_videos")
        written = list(method.render_examples(generator, dataset, cfg, stats, videos, out_dir))
    return EvaluationResult(metrics, written)
