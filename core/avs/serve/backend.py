"""The demo's one link to the inference path: installed methods, loading once, audio → files.

Everything the page and the HTTP API run goes through :class:`Backend`. Only :meth:`Backend._load` and
:meth:`Backend._run` touch the inference path (:func:`avs.api.load` → :class:`avs.model.Model`); the
rest is the demo's own bookkeeping (which methods, which checkpoint, limits, locks).

Models are loaded the first time a method is asked for and kept for the life of the server; a
request's options are merged over the checkpoint's config (:func:`avs.config.build_config`) without
rebuilding the network, since the demo offers no option that changes its shape
(:data:`avs.serve.options.HIDDEN_SECTIONS`).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from avs.errors import AvsError
from avs.serve.options import OptionSpec, prediction_options

_MISSING = object()

Progress = Callable[[float, str], None]
"""``progress(fraction in [0, 1], what is happening)``."""

TASK_TABS = {
    "gesture-2d": "Gestures",
    "face-blendshape": "Blendshapes",
    "face-3dmm": "Face (3DMM)",
    "face-image": "Face video",
}
"""Tab title of each known task; an unknown task gets a tab named after it."""


class BadUpload(AvsError):
    """An uploaded file that cannot be used (not audio, too long, not a photo, no face): the demo deletes it.

    Attributes:
        path: the upload.
    """

    def __init__(self, message: str, path: str | Path) -> None:
        super().__init__(message)
        self.path = Path(path)


IMAGE_INPUTS = ("face", "photo", "image", "target")
"""``predict_inputs`` names that are one photo (an image upload, checked for a face); others are files."""


def check_photo(path: str | Path, name: str = "face") -> None:
    """Check an uploaded photo before any model work: an image, and (with the face extra) a face in it.

    Args:
        path: the uploaded file.
        name: the input's name, for the message.

    Raises:
        BadUpload: not a readable image; no face found (only checked when ``avs.face`` is present).
    """
    import cv2

    path = Path(path)
    try:
        data = np.frombuffer(path.read_bytes(), np.uint8)
    except OSError:
        data = np.zeros(0, np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None  # None: not an image OpenCV reads
    if image is None:
        raise BadUpload(f"the {name} input {path.name} is not a readable image (use a JPEG or PNG photo)", path)
    if min(image.shape[:2]) < 16:
        raise BadUpload(f"the {name} input {path.name} is not a photo ({image.shape[1]}x{image.shape[0]} pixels)",
                        path)
    try:
        from avs.face import track_image
    except ImportError:  # a core without the face package: the method checks its input itself
        return
    if track_image(np.ascontiguousarray(image[..., ::-1])) is None:  # OpenCV decodes BGR
        raise BadUpload(f"no face found in the {name} photo {path.name}: use a photo with one face, "
                        "looking at the camera", path)


@dataclass(frozen=True)
class MethodInfo:
    """What the page shows about one installed method (no torch needed).

    Attributes:
        name: CLI name.
        task: task name (``gesture-2d``, ...).
        summary: one line.
        version: the plugin distribution's version.
        sample_rate: Hz of the audio it consumes.
        fps: output frame rate.
        options: the prediction options of its config (:func:`avs.serve.options.prediction_options`).
        predict_inputs: extra inputs it takes besides the audio (``face``, ``drive``, ...).
        checkpoint: the checkpoint the demo uses, or None when there is none (predict then errors).
    """

    name: str
    task: str
    summary: str
    version: str
    sample_rate: int
    fps: float
    options: tuple[OptionSpec, ...]
    predict_inputs: tuple[str, ...]
    checkpoint: Path | None


@dataclass(frozen=True)
class Prediction:
    """What one request wrote.

    Attributes:
        video: the mp4 (H.264 + AAC).
        files: every file written, the mp4 first, then the ``.npz`` and the method's exports (CSV, PNG, JSON).
        num_frames: video frames.
        fps: frames per second.
        duration: audio length in seconds.
        seconds: wall time of the request (model load excluded when it was already loaded).
    """

    video: Path
    files: list[Path]
    num_frames: int
    fps: float
    duration: float
    seconds: float


def _safe_stem(name: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(name).stem).strip("._") or "audio"
    return stem[:60]


class Backend:
    """Installed methods and their loaded models, shared by every request of one server.

    Args:
        methods: names to offer (default: every installed method).
        checkpoints: ``{method: checkpoint}`` replacing the bundled checkpoints.
        device: ``cpu``, ``cuda`` or ``auto``.

    Raises:
        AvsError: a name in ``methods`` or ``checkpoints`` that no installed plugin provides.
    """

    def __init__(self, methods: Sequence[str] | None = None, checkpoints: Mapping[str, str | Path] | None = None,
                 device: str = "cpu") -> None:
        from avs.plugins import discover

        self.registry = discover()
        names = list(methods) if methods else sorted(self.registry.methods)
        self._records = {name: self.registry.get(name) for name in names}
        self._checkpoints: dict[str, Path | None] = {}
        for name, record in self._records.items():
            default = record.default_checkpoint
            self._checkpoints[name] = Path(default) if default else None
        for name, path in (checkpoints or {}).items():
            if name not in self._records:
                raise AvsError(f"--checkpoint {name}=...: method {name!r} is not served")
            if not Path(path).is_file():
                raise AvsError(f"checkpoint not found: {path}")
            self._checkpoints[name] = Path(path)
        self.device = device
        self._models: dict[str, Any] = {}
        self._load_lock = threading.Lock()
        self.loads: dict[str, int] = {}
        """How many times each method's model was built (1 after any number of requests)."""

    def methods(self) -> dict[str, MethodInfo]:
        """``{name: MethodInfo}`` of the served methods, sorted by name."""
        out = {}
        for name, m in sorted(self._records.items()):
            out[name] = MethodInfo(name, m.task, m.summary, m.version, m.sample_rate, m.fps,
                                   tuple(prediction_options(m.config_class)), tuple(m.predict_inputs),
                                   self._checkpoints[name])
        return out

    def info(self, name: str) -> MethodInfo:
        """The :class:`MethodInfo` of one served method.

        Raises:
            AvsError: ``name`` is not served.
        """
        infos = self.methods()
        if name not in infos:
            raise AvsError(f"unknown method {name!r} (served: {', '.join(infos) or 'none'})")
        return infos[name]

    def option_defaults(self, name: str) -> dict[str, Any]:
        """``{option key: value}`` the served checkpoint was saved with (what a request changes from).

        Read from the checkpoint's safetensors header only (no weights, no torch); options the header
        lacks keep the config class's defaults. Empty when the method has no checkpoint.
        """
        checkpoint = self._checkpoints[name]
        if checkpoint is None:
            return {}
        from safetensors import safe_open

        try:
            with safe_open(str(checkpoint), framework="numpy") as f:
                config = json.loads((f.metadata() or {}).get("config", "{}"))
        except Exception:  # an unreadable checkpoint is reported when a request loads it
            return {}
        out: dict[str, Any] = {}
        for spec in self.info(name).options:
            node: Any = config
            for part in spec.key.split("."):
                node = node.get(part, _MISSING) if isinstance(node, dict) else _MISSING
            if node is not _MISSING:
                out[spec.key] = node
        return out

    # ------------------------------------------------------------------ the contract-specific part

    def _load(self, name: str) -> Any:
        """Build method ``name`` from its checkpoint once (:func:`avs.api.load`); later calls reuse it."""
        with self._load_lock:
            if name not in self._models:
                from avs.api import load

                checkpoint = self._checkpoints[name]
                if checkpoint is None:
                    raise AvsError(f"method {name!r} has no bundled checkpoint; start the demo with "
                                   f"--checkpoint {name}=PATH")
                model = load(name, checkpoint, device=self.device)
                self._models[name] = (model, model.impl.cfg, threading.Lock())
                self.loads[name] = self.loads.get(name, 0) + 1
            return self._models[name]

    def _run(self, name: str, loaded: Any, audio: np.ndarray, overrides: list[str], inputs: Mapping[str, Path],
             out: Path, progress: Progress) -> tuple[Path, list[Path], int, float]:
        """Audio → motion → mp4 (+ npz and the method's exports) with an :class:`avs.model.Model`.

        A request's options replace the implementation's config for the duration of the request (the
        network is untouched), so requests of one method run one at a time.
        """
        import torch

        from avs.config import build_config
        from avs.video import write_video

        model, base_cfg, lock = loaded
        with lock:
            model.impl.cfg = build_config(self._records[name].config_class, None, overrides, base=base_cfg)
            try:
                progress(0.2, "predicting motion")
                with torch.no_grad():
                    motion = model.predict(audio, **inputs)
                num_frames = motion.num_frames

                def frames() -> Any:
                    for i, frame in enumerate(model.impl.renderer().frames(motion)):
                        if i % 8 == 0:
                            progress(0.3 + 0.6 * i / num_frames, f"rendering frame {i + 1}/{num_frames}")
                        yield frame

                write_video(out, frames(), motion.fps, num_frames, audio=audio, sample_rate=model.sample_rate)
                progress(0.92, "writing files")
                files = [out, motion.save_npz(out.with_suffix(".npz")), *model.impl.export(motion, out)]
            finally:
                model.impl.cfg = base_cfg
        return out, files, num_frames, motion.fps

    # ------------------------------------------------------------------ requests

    def load_audio(self, name: str, path: str | Path, max_seconds: float) -> np.ndarray:
        """Decode an upload for method ``name``, checked before any model work.

        Returns:
            (N,) float32 mono samples at the method's sample rate.

        Raises:
            BadUpload: not audio, empty, no samples, shorter than one output frame, or longer than
                ``max_seconds``.
        """
        from avs.audio import load_audio

        info = self.info(name)
        path = Path(path)
        try:
            import soundfile

            header = soundfile.info(str(path))
            if header.frames / header.samplerate > max_seconds:
                raise BadUpload(f"the audio lasts {header.frames / header.samplerate:.1f} s; this server accepts "
                                f"at most {max_seconds:g} s", path)
        except AvsError:
            raise
        except Exception:  # not a libsndfile format: decoded (and measured) below
            pass
        try:
            audio = load_audio(path, info.sample_rate, min_duration=1.0 / info.fps, min_duration_name="one frame")
        except AvsError as exc:
            raise BadUpload(str(exc).replace(str(path), path.name), path) from None
        seconds = len(audio) / info.sample_rate
        if seconds > max_seconds:
            raise BadUpload(f"the audio lasts {seconds:.1f} s; this server accepts at most {max_seconds:g} s", path)
        return audio

    def predict(self, name: str, audio_path: str | Path, out_dir: Path, overrides: Sequence[str] = (),
                inputs: Mapping[str, str | Path] | None = None, max_seconds: float = 60.0,
                progress: Progress | None = None) -> Prediction:
        """Run method ``name`` on one audio file; write the mp4 and the other files into ``out_dir``.

        Args:
            name: a served method.
            audio_path: the uploaded or recorded audio (any format :func:`avs.audio.load_audio` reads).
            out_dir: an existing, empty folder of this request.
            overrides: ``key=value`` options (:func:`avs.serve.options.to_overrides`).
            inputs: ``{input name: file}`` for a method's ``predict_inputs`` (face photo, ...).
            max_seconds: longest accepted audio.
            progress: called with (fraction, description) as the work advances.

        Raises:
            AvsError: every user-caused problem (bad audio, bad option, missing input, no checkpoint).
        """
        started = time.perf_counter()
        report = progress or (lambda fraction, text: None)
        info = self.info(name)
        given = {k: Path(v) for k, v in (inputs or {}).items() if v}
        for needed in info.predict_inputs:
            if needed not in given:
                raise AvsError(f"method {name} needs a {needed} input")
        report(0.0, "reading audio")
        audio = self.load_audio(name, audio_path, max_seconds)
        for key, path in given.items():
            if key in IMAGE_INPUTS:
                report(0.05, f"looking for a face in the {key} photo")
                check_photo(path, key)
        report(0.1, f"loading {name}")
        model = self._load(name)
        out = Path(out_dir) / f"{_safe_stem(Path(audio_path).name)}_{name}.mp4"
        video, files, num_frames, fps = self._run(name, model, audio, list(overrides), given, out, report)
        report(1.0, "done")
        return Prediction(video, files, num_frames, fps, len(audio) / info.sample_rate,
                          time.perf_counter() - started)
