"""``avs data prepare face``: talking-face videos → a face data set (format in ``docs/face.md``).

Per video, in a hidden ``.<name>.partial`` folder renamed into place when complete (the rename is
the completion marker, so a killed run resumes by redoing only unfinished videos):
frames at 25 fps (``frames.mp4``, H.264 yuv444p crf 12), 16 kHz mono audio of exactly 640 samples per
frame (``audio.wav``), tracking + open face model (``track.npz``) and ``meta.json``. Then
``index.json`` with the train/dev/test frame ranges.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from avs.errors import AvsError
from avs.face import media
from avs.face.data import FORMAT, VERSION

CRF = 12
EMBED_FRAMES = 16
"""Frames (evenly spread over the valid ones) whose dlib embeddings are averaged into ``identity``."""
PHADTF_TRAIN, PHADTF_HELD_OUT = 300, 100


def split_ranges(num_frames: int) -> dict[str, list[int]]:
    """Train/dev/test frame ranges of one video.

    Long videos (≥ 425 frames, 17 s) follow PHADTF (Yi et al. 2020; reference ``Data/`` recipe): the
    first 300 frames train, the next 100 are the held-out test frames, the rest is dev. Shorter
    videos (e.g. 8 s HDTF clips) split 75 % / 12.5 % / 12.5 % in time order (200 → 150/25/25).
    """
    if num_frames >= PHADTF_TRAIN + PHADTF_HELD_OUT + 25:
        a, b = PHADTF_TRAIN, PHADTF_TRAIN + PHADTF_HELD_OUT
        return {"train": [0, a], "dev": [b, num_frames], "test": [a, b]}
    a = int(round(num_frames * 0.75))
    b = a + (num_frames - a) // 2
    return {"train": [0, a], "dev": [a, b], "test": [b, num_frames]}


@dataclass
class VideoSummary:
    """One row of the summary table."""

    name: str
    frames: int
    faces_found: int
    multi_face_frames: int
    jitter_raw_px: float
    jitter_px: float
    recon_px: float
    seconds: float
    status: str


def _source_key(path: Path) -> dict[str, Any]:
    st = path.stat()
    return {"path": str(path), "bytes": st.st_size, "mtime_ns": st.st_mtime_ns}


def _check_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise AvsError(f"output {out} exists and is not a folder")
    index = out / "index.json"
    if index.is_file():
        try:
            fmt = json.loads(index.read_text()).get("format")
        except (OSError, ValueError):
            fmt = None
        if fmt != FORMAT:
            raise AvsError(f"{out} holds another kind of data set ({index}); choose an empty folder")


def check_inputs(videos: Sequence[str | Path], out: Path) -> list[media.MediaInfo]:
    """Probe every video and the output folder before any work. AvsError on the first problem."""
    if not videos:
        raise AvsError("no videos given")
    _check_out(out)
    infos, names = [], {}
    for v in videos:
        info = media.probe_media(v)
        name = Path(v).stem
        if name in names:
            raise AvsError(f"two videos share the name {name!r}: {names[name]} and {v}")
        names[name] = v
        infos.append(info)
    return infos


def _track_video(info: media.MediaInfo, work: Path, on_frame: Callable[[], None]) -> dict[str, Any]:
    """Decode, track, write frames.mp4 into ``work``; return raw per-frame results."""
    import imageio_ffmpeg

    from avs.face.embedding import face_embedding
    from avs.face.tracking import FaceTracker

    lm68, lm478, faces = [], [], []
    embeds = []
    step = max(1, info.expected_frames // EMBED_FRAMES)
    writer = imageio_ffmpeg.write_frames(str(work / "frames.mp4"), (info.width, info.height), fps=media.FPS,
                                         codec="libx264", pix_fmt_out="yuv444p", quality=None, macro_block_size=1,
                                         output_params=["-crf", str(CRF), "-preset", "veryfast"],
                                         ffmpeg_log_level="error")
    writer.send(None)
    try:
        with FaceTracker() as tracker:
            for i, frame in enumerate(media.iter_frames(info.path)):
                writer.send(np.ascontiguousarray(frame))
                tr = tracker(frame)
                if tr is None:
                    lm68.append(np.full((68, 2), np.nan, np.float32))
                    lm478.append(np.full((478, 3), np.nan, np.float32))
                    faces.append(0)
                else:
                    lm68.append(tr.lm68)
                    lm478.append(tr.lm478)
                    faces.append(tr.num_faces)
                    if i % step == 0 and len(embeds) < EMBED_FRAMES:
                        embeds.append(face_embedding(frame, tr.lm68))
                on_frame()
    finally:
        writer.close()
    if not lm68:
        raise AvsError(f"{info.path}: ffmpeg decoded no frames")
    if len(lm68) < 0.9 * info.expected_frames:
        raise AvsError(f"{info.path} decodes to {len(lm68)} of the {info.expected_frames} frames its header "
                       "promises (truncated file?)")
    return {"lm68": np.stack(lm68), "lm478": np.stack(lm478), "faces": np.array(faces), "embeds": embeds}


def fit_track(lm68: np.ndarray, lm478: np.ndarray, faces: np.ndarray, model: Any) -> tuple[dict, dict]:
    """Gap filling, smoothing, open-face-model fit of raw per-frame landmarks.

    Returns:
        (arrays for ``track.npz`` without ``identity``, statistics for ``meta.json``).
    """
    from avs.face.model import reconstruction_error
    from avs.face.smoothing import MAX_FILL, ORDER, WINDOW, fill_short_gaps, landmark_jitter, smooth_landmarks
    from avs.face.tracking import mesh_box

    found = faces > 0
    if not found.any():
        raise AvsError("no face found in any frame")
    lm68f, filled = fill_short_gaps(lm68, found)
    lm478f, _ = fill_short_gaps(lm478, found)
    valid = found | filled
    lm68s = smooth_landmarks(lm68f, valid)
    lm478s = smooth_landmarks(lm478f, valid)
    T = len(valid)
    box = np.full((T, 4), np.nan, np.float32)
    for i in np.flatnonzero(valid):
        box[i] = mesh_box(lm478s[i])
    fitted = model.fit(lm478s, valid)
    for key in ("euler", "trans", "exp"):
        fitted[key][~valid] = np.nan
    arrays = {"valid": valid, "interpolated": filled, "lm68": lm68s, "lm478": lm478s, "box": box,
              "euler": fitted["euler"], "trans": fitted["trans"], "exp": fitted["exp"],
              "identity_shape": fitted["identity_shape"], "num_faces": faces.astype(np.int16)}
    stats = {
        "faces_found": int(found.sum()), "frames_interpolated": int(filled.sum()),
        "multi_face_frames": int((faces > 1).sum()), "max_faces": int(faces.max()),
        "jitter_raw_px": landmark_jitter(lm68f, valid), "jitter_px": landmark_jitter(lm68s, valid),
        "reconstruction_error_px": reconstruction_error(model, lm478s, fitted, valid),
        "smoothing": f"Savitzky-Golay window {WINDOW} order {ORDER} per valid run; gaps <= {MAX_FILL} frames "
                     "interpolated linearly, longer gaps left missing",
    }
    return arrays, stats


def _write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    from avs.io import atomic_path

    with atomic_path(path, suffix=".npz") as tmp:
        np.savez_compressed(tmp, **arrays)


def _prepare_one(info: media.MediaInfo, out: Path, model: Any, on_frame: Callable[[], None]) -> dict[str, Any]:
    import soundfile as sf

    from avs import __version__
    from avs.face import deps

    name = info.path.stem
    work = out / f".{name}.partial"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    t0 = time.perf_counter()
    try:
        raw = _track_video(info, work, on_frame)
        T = len(raw["lm68"])
        audio, audio_diff = media.read_audio(info.path, T)
        sf.write(work / "audio.wav", audio, media.SAMPLE_RATE, subtype="FLOAT")
        arrays, stats = fit_track(raw["lm68"], raw["lm478"], raw["faces"], model)
    except AvsError as exc:
        shutil.rmtree(work, ignore_errors=True)
        msg = str(exc)
        raise AvsError(msg if str(info.path) in msg else f"{info.path}: {msg}") from None
    ident = np.mean(raw["embeds"], axis=0) if raw["embeds"] else np.full(128, np.nan)
    arrays["identity"] = (ident / np.linalg.norm(ident)).astype(np.float32)
    _write_npz(work / "track.npz", arrays)
    notes = []
    if stats["multi_face_frames"]:
        notes.append(f"{stats['max_faces']} faces in {stats['multi_face_frames']} frames: the largest was tracked")
    if stats["faces_found"] < T:
        notes.append(f"no face in {T - stats['faces_found']} of {T} frames "
                     f"({stats['frames_interpolated']} short-gap frames interpolated)")
    meta = {
        "format": FORMAT, "version": VERSION, "name": name, "fps": media.FPS, "sample_rate": media.SAMPLE_RATE,
        "width": info.width, "height": info.height, "num_frames": T, "audio_samples": len(audio),
        "source": _source_key(info.path) | {"fps": info.fps, "duration_s": info.duration, "codec": info.codec,
                                              "audio_codec": info.audio_codec},
        "audio_samples_trimmed": int(audio_diff), "identity_frames": len(raw["embeds"]),
        "face_model": model.version, "versions": deps.versions() | {"avs-toolkit": __version__},
        "seconds": round(time.perf_counter() - t0, 2), "notes": notes, **stats,
    }
    (work / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    final = out / name
    if final.exists():
        shutil.rmtree(final)
    os.replace(work, final)
    return meta


def _refit(final: Path, meta: dict[str, Any], model: Any) -> dict[str, Any]:
    """Redo only the open-face-model fit (a new bundled model) from the stored raw-smoothed landmarks."""
    from avs.face.model import reconstruction_error

    with np.load(final / "track.npz", allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    valid = arrays["valid"].astype(bool)
    fitted = model.fit(arrays["lm478"], valid)
    for key in ("euler", "trans", "exp"):
        fitted[key][~valid] = np.nan
        arrays[key] = fitted[key]
    arrays["identity_shape"] = fitted["identity_shape"]
    _write_npz(final / "track.npz", arrays)
    meta = meta | {"face_model": model.version,
                   "reconstruction_error_px": reconstruction_error(model, arrays["lm478"], fitted, valid)}
    from avs.io import atomic_path

    with atomic_path(final / "meta.json") as tmp:
        tmp.write_text(json.dumps(meta, indent=2) + "\n")
    return meta


def _done(final: Path, info: media.MediaInfo) -> dict[str, Any] | None:
    meta_path = final / "meta.json"
    if not (meta_path.is_file() and (final / "track.npz").is_file()):
        return None
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, ValueError):
        return None
    src = meta.get("source", {})
    key = _source_key(info.path)
    if src.get("bytes") != key["bytes"] or src.get("mtime_ns") != key["mtime_ns"]:
        return None
    return meta


def prepare_face_data(videos: Sequence[str | Path], out: str | Path, model: Any = None, progress: bool = True,
                      console: Any = None) -> list[VideoSummary]:
    """Prepare talking-face videos into a face data set (resumable).

    Args:
        videos: video files (any container/codec/rate ffmpeg reads; speech on the audio track).
        out: output folder (created; videos already complete in it are kept).
        model: :class:`avs.face.model.OpenFaceModel` (default: the bundled one).
        progress: show a Rich progress bar with frames/s.
        console: Rich console for the progress bar.

    Returns:
        One :class:`VideoSummary` per video.

    Raises:
        AvsError: bad input (checked before any work): missing/empty/truncated file, a still image,
            no audio track, a video without any face, two videos with one name, a foreign ``out``.
    """
    from avs.face.model import OpenFaceModel

    out = Path(out)
    infos = check_inputs(videos, out)
    model = model or OpenFaceModel.load_default()
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    try:
        return _prepare_all(infos, out, model, progress, console)
    except AvsError:
        if created and out.is_dir() and not any(out.iterdir()):
            out.rmdir()  # leave nothing behind for a run that produced nothing
        raise


def write_index(out: Path, entries: list[dict[str, Any]]) -> Path:
    """Write ``out/index.json`` atomically: ``entries`` plus videos of earlier runs still in ``out``."""
    from avs.io import atomic_path

    index = {"format": FORMAT, "version": VERSION, "fps": media.FPS, "sample_rate": media.SAMPLE_RATE,
             "splits": {"long (>= 425 frames)": "PHADTF: train 0-300, test 300-400, dev 400-end",
                        "short": "train first 75 %, dev next 12.5 %, test last 12.5 %"},
             "videos": []}
    path = out / "index.json"
    keep = []
    if path.is_file():
        try:
            old = json.loads(path.read_text())
            names = {e["name"] for e in entries}
            keep = [e for e in old.get("videos", []) if e["name"] not in names and (out / e["name"]).is_dir()]
        except (OSError, ValueError, KeyError, TypeError):
            keep = []
    index["videos"] = sorted(entries + keep, key=lambda e: e["name"])
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(index, indent=2) + "\n")
    return path


def _prepare_all(infos: list[media.MediaInfo], out: Path, model: Any, progress: bool,
                 console: Any) -> list[VideoSummary]:
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

    summaries, entries = [], []
    total = sum(i.expected_frames for i in infos)
    columns = [TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
               TextColumn("{task.completed}/{task.total} frames"),
               TextColumn("[cyan]{task.fields[fps]} frames/s"), TimeRemainingColumn()]
    with Progress(*columns, console=console, disable=not progress, transient=False) as bar:
        task = bar.add_task("prepare", total=total, fps="-")
        for info in infos:
            name = info.path.stem
            final = out / name
            meta = _done(final, info)
            status = "kept"
            if meta is not None and meta.get("face_model") != model.version:
                meta, status = _refit(final, meta, model), "refit"
            if meta is None:
                bar.update(task, description=f"prepare {name}")
                t0, n = time.perf_counter(), [0]

                def tick(t0: float = t0, n: list = n) -> None:
                    n[0] += 1
                    bar.update(task, advance=1, fps=f"{n[0] / max(time.perf_counter() - t0, 1e-9):.1f}")

                meta, status = _prepare_one(info, out, model, tick), "done"
            else:
                bar.update(task, advance=info.expected_frames)
            T = int(meta["num_frames"])
            entries.append({"name": name, "num_frames": T, "split": split_ranges(T)})
            write_index(out, entries)  # after every video: a later failure keeps the finished ones usable
            summaries.append(VideoSummary(name, T, int(meta["faces_found"]), int(meta["multi_face_frames"]),
                                          float(meta["jitter_raw_px"]), float(meta["jitter_px"]),
                                          float(meta["reconstruction_error_px"]), float(meta["seconds"]), status))
    return summaries
