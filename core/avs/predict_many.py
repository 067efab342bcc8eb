"""``avs predict`` over many audio files in one process: the inputs, their outputs, one model for all.

The command line gives files, folders and glob patterns; :func:`expand_audio_sources` turns them into
a list of audio files, :func:`plan_outputs` maps each to its mp4 and checks every output before any
work, and :func:`predict_files` runs one loaded :class:`avs.model.Model` over all of them, reporting a
bad file and going on with the next.
"""

from __future__ import annotations

import glob
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from avs.errors import AvsError
from avs.io import check_output_path

AUDIO_SUFFIXES: tuple[str, ...] = (".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".m4a", ".aac", ".aif",
                                   ".aiff", ".aifc", ".au", ".caf", ".wma")
"""Suffixes (any case) taken from a folder. Video files are not taken from a folder (an output folder may
be the input folder); name them, or match them with a glob pattern, to use their sound."""

_GLOB_CHARS = "*?["


def path_exists(arg: str) -> bool:
    """``arg`` names an existing file or folder (False, not an error, for a name the system refuses)."""
    try:
        return Path(arg).exists()
    except OSError:  # e.g. a name too long
        return False


def _is_dir(arg: str) -> bool:
    try:
        return Path(arg).is_dir()
    except OSError:
        return False


def is_glob(arg: str) -> bool:
    """``arg`` is a glob pattern for avs to expand (it holds ``*``, ``?`` or ``[`` and names no existing file)."""
    return any(c in arg for c in _GLOB_CHARS) and not path_exists(arg)


def is_collection(arg: str) -> bool:
    """``arg`` names several inputs: a folder or a glob pattern (so the many-file rules apply)."""
    return is_glob(arg) or _is_dir(arg)


def expand_audio_sources(args: Sequence[str]) -> list[Path]:
    """The audio files named by ``args``, in order, each once.

    A file is taken as given (a missing or unreadable one fails later, on its own); a folder gives its
    files with a suffix of :data:`AUDIO_SUFFIXES`, sorted by name (not recursive); a glob pattern (``*``,
    ``?``, ``[...]``, ``**`` recursive) gives the files it matches, sorted. A file reached twice is
    kept at its first place.

    Raises:
        AvsError: a folder without audio files, or a pattern that matches no file.
    """
    files: list[Path] = []
    for arg in args:
        if is_glob(arg):
            found = sorted(Path(p) for p in glob.glob(arg, recursive=True) if Path(p).is_file())
            if not found:
                raise AvsError(f"no file matches {arg!r}")
        elif _is_dir(arg):
            found = sorted(p for p in Path(arg).iterdir() if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES)
            if not found:
                raise AvsError(f"no audio files in folder {arg} (taken: {' '.join(AUDIO_SUFFIXES)})")
        else:
            found = [Path(arg)]
        files.extend(found)
    seen: set[Path] = set()
    unique = []
    for path in files:
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(path)
    return unique


def plan_outputs(files: Sequence[Path], out_dir: Path | None, plugin: str) -> list[Path]:
    """The mp4 each of ``files`` is written to, every one checked before any work.

    Args:
        files: the audio files (from :func:`expand_audio_sources`).
        out_dir: the ``--out`` folder (created when the first output is written), or None for
            ``<stem>_<plugin>.mp4`` in the current folder, as for one file.
        plugin: the method's name.

    Returns:
        ``<out_dir>/<stem>.mp4`` per file (same order).

    Raises:
        AvsError: ``out_dir`` is a file or ends in ``.mp4``; two inputs of the same stem (naming
            both); an output that would replace one of the inputs; an output that cannot be written.
    """
    if out_dir is not None:
        if out_dir.suffix.lower() == ".mp4" and not out_dir.is_dir():
            raise AvsError(f"with several audio files --out must be a folder, got {out_dir}")
        check_output_path(out_dir, folder=True, what="--out folder (several audio files)")
    outs = [(out_dir / f"{f.stem}.mp4") if out_dir is not None else Path(f"{f.stem}_{plugin}.mp4") for f in files]
    inputs = {f.resolve(): f for f in files}
    first: dict[Path, Path] = {}
    for audio, out in zip(files, outs, strict=True):
        key = out.resolve()
        if key in first:
            raise AvsError(f"{first[key]} and {audio} would both be written to {out} (same name); "
                           "rename one or run them apart")
        first[key] = audio
        if key in inputs:
            raise AvsError(f"the output {out} would replace the input {inputs[key]}; choose another --out folder")
        check_output_path(out)
    return outs


@dataclass(frozen=True)
class FileOutcome:
    """What became of one input file.

    Attributes:
        audio: the input.
        result: the :class:`avs.predict.PredictResult` (None when it failed).
        error: the one-line reason it failed (None when it succeeded).
    """

    audio: Path
    result: Any = None
    error: str | None = None


def predict_files(model: Any, files: Sequence[Path], outs: Sequence[Path], save_npz: bool = False,
                  inputs: Mapping[str, Path] | None = None) -> Iterator[FileOutcome]:
    """Run one loaded model over ``files``, writing ``outs``; yield each file's outcome as it is done.

    Each file goes the way of ``avs predict`` with one file: decoded at the model's rate, predicted,
    fitted to ``round(duration · fps)`` frames, rendered to its mp4 (atomically), plus the npz and the
    method's exports. A file that fails (unreadable, too short, any error of its own) yields an outcome
    with the error; the files after it still run, and nothing half-written is left for it.

    Args:
        model: an :class:`avs.model.Model` (built once, e.g. :func:`avs.model.load_method`).
        files: the audio files; ``outs``: their mp4s (:func:`plan_outputs`).
        save_npz: also write the motion beside each mp4 as ``.npz``.
        inputs: extra inputs of the method (``--face`` ...), the same for every file.
    """
    from avs.audio import load_audio
    from avs.predict import write_outputs

    for audio_path, out in zip(files, outs, strict=True):
        try:
            audio = load_audio(audio_path, model.sample_rate, min_duration=1.0 / model.fps,
                               min_duration_name="one frame")
            motion = model.predict(audio, **dict(inputs or {}))
            result = write_outputs(model.impl, motion, audio, out, save_npz, model.backend)
        except AvsError as exc:
            yield FileOutcome(audio_path, error=str(exc))
        except Exception as exc:  # noqa: BLE001 - a method's failure on one file must not stop the others
            yield FileOutcome(audio_path, error=" ".join(f"{type(exc).__name__}: {exc}".split()))
        else:
            yield FileOutcome(audio_path, result=result)

