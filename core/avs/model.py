"""Using a method from Python: ``avs.api.load("s2g").predict("speech.wav")`` → :class:`~avs.motion.Motion`.

The same path as ``avs predict`` (:mod:`avs.predict`), without the command line::

    from avs.api import load

    model = load("s2g")                      # the bundled checkpoint, or load("s2g", "run/best.safetensors")
    motion = model.predict("speech.wav")     # or a (S,) float32 array at model.sample_rate
    model.render(motion, "out.mp4")          # H.264 with the speech muxed in
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from avs.errors import AvsError
from avs.motion import Motion, frames_for_duration


class Model:
    """A method's implementation loaded from a checkpoint, ready to predict and render.

    Attributes:
        impl: the :class:`avs.impl.MethodImpl` (networks in eval mode), or on the ONNX backend the
            method's :class:`avs.runtime.OnnxRuntimeImpl`.
        method: its :class:`avs.method.Method` record.
        backend: ``torch`` or ``onnx``.
        sample_rate: audio rate in Hz that :meth:`predict` takes arrays at.
        fps: frame rate of the motion it returns.
    """

    def __init__(self, impl: Any, backend: str = "torch") -> None:
        self.impl = impl
        self.backend = backend
        self.method = impl.method
        self.sample_rate = int(self.method.sample_rate)
        self.fps = float(self.method.fps)
        self._audio: dict[int, np.ndarray] = {}

    def _audio_of(self, audio_or_path: str | Path | np.ndarray) -> np.ndarray:
        from avs.audio import load_audio

        if isinstance(audio_or_path, (str, Path)):
            return load_audio(audio_or_path, self.sample_rate, min_duration=1.0 / self.fps,
                              min_duration_name="one frame")
        audio = np.asarray(audio_or_path, dtype=np.float32)
        if audio.ndim != 1 or audio.size < self.sample_rate / self.fps:
            raise AvsError(f"audio must be mono (S,) samples at {self.sample_rate} Hz, at least one frame long; "
                           f"got shape {audio.shape}")
        return audio

    def predict(self, audio_or_path: str | Path | np.ndarray, **inputs: str | Path) -> Motion:
        """Motion for one utterance, exactly ``round(duration · fps)`` frames long.

        Args:
            audio_or_path: an audio file (any format ``avs predict`` reads, any rate) or a (S,)
                float32 array in [-1, 1] at :attr:`sample_rate`.
            inputs: extra inputs of ``method.predict_inputs`` as file paths (e.g. ``face="me.jpg"``).

        Raises:
            AvsError: unreadable or too short audio; an input the method does not take.
        """
        from avs.predict import check_inputs, fit_length

        extra = check_inputs(self.method, inputs)
        audio = self._audio_of(audio_or_path)
        motion = self.impl.predict(audio, extra)
        motion = fit_length(motion, frames_for_duration(len(audio) / self.sample_rate, motion.fps))
        self._audio = {id(motion): audio}  # render() muxes the speech of the last prediction
        return motion

    def render(self, motion: Motion, out_path: str | Path, audio: np.ndarray | None = None) -> Path:
        """Write ``motion`` as an H.264 mp4 (atomically), with the speech it was predicted from.

        Args:
            motion: a prediction of this model.
            out_path: the ``.mp4`` to write.
            audio: the sound track (S,) at :attr:`sample_rate`; default: the audio of the
                :meth:`predict` call that returned ``motion`` (silent for any other motion).

        Returns:
            ``out_path`` as a :class:`~pathlib.Path`.
        """
        from avs.video import write_video

        out = Path(out_path)
        if out.suffix.lower() != ".mp4":
            raise AvsError(f"output must be an .mp4 file, got {out}")
        sound = audio if audio is not None else self._audio.get(id(motion))
        renderer = self.impl.renderer()
        write_video(out, renderer.frames(motion), motion.fps, motion.num_frames, audio=sound,
                    sample_rate=self.sample_rate if sound is not None else None,
                    **getattr(renderer, "video_encoding", {}))
        return out


def load(name: str, checkpoint: str | Path | None = None, overrides: list[str] | None = None,
         device: str = "cpu", backend: str = "auto") -> Model:
    """Load an installed method by name from ``checkpoint`` (default: its bundled checkpoint).

    Also reachable as ``avs.load`` (imported on first use: ``import avs`` stays free of torch)::

        import avs

        model = avs.load("s2g")                     # built once; reuse it for many utterances
        motion = model.predict("speech.wav")        # Motion: .data (T, 49, 2) float32 pixels at .fps = 15
        model.render(motion, "speech_s2g.mp4")      # H.264 mp4 with the speech muxed in

    Args:
        name: the method's name (``avs plugins``).
        checkpoint: a ``.safetensors`` checkpoint of that method, or None for the bundled one.
        overrides: ``key=value`` config overrides (e.g. ``render.width=640``).
        device: ``cpu``, ``cuda`` or ``auto``.
        backend: ``auto`` (the checkpoint's ONNX graph when usable, else torch; a stale graph is ignored with
            a warning), ``torch`` or ``onnx`` (:func:`avs.runtime.load_inference`).

    Returns:
        A :class:`Model`: ``.predict(audio_or_path, **inputs) -> Motion`` takes a file or a (S,) float32
        array at ``.sample_rate`` Hz and returns ``round(S / sample_rate · fps)`` frames at ``.fps``
        (``Motion.data`` is (T, ...) as the method's task defines: s2g (T, 49, 2) keypoint pixels, emotalk
        (T, 52) blendshape weights, ...); ``.render(motion, "out.mp4")`` writes the video and returns its path.

    Raises:
        AvsError: an unknown method, no checkpoint given and none bundled, a missing, corrupt or
            other method's checkpoint, a bad override, an unusable ``backend="onnx"``. (``predict`` raises
            AvsError for unreadable or too short audio and inputs the method does not take; ``render`` for
            an output not ``.mp4``.)
    """
    from avs.plugins import discover

    return load_method(discover().get(name), checkpoint, overrides, device, backend)


def load_method(method: Any, checkpoint: str | Path | None = None, overrides: list[str] | None = None,
                device: str = "cpu", backend: str = "auto", on_note: Any = None) -> Model:
    """:func:`load` for a :class:`avs.method.Method` record already discovered (``avs predict`` over many files).

    Raises:
        AvsError: as :func:`load`.
    """
    from avs.runtime import check_backend, load_inference

    check_backend(backend, method)
    if checkpoint is None:
        if method.default_checkpoint is None:
            raise AvsError(f"method {method.name!r} has no bundled checkpoint; pass checkpoint=...")
        checkpoint = method.default_checkpoint
    loaded = load_inference(method, checkpoint, list(overrides or []), device, backend, on_note)
    return Model(loaded.impl, loaded.backend)
