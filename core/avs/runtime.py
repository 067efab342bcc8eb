"""Choosing the inference backend, and the torch-free one: a method's network in ONNX, run with onnxruntime.

A method opts in with ``Method.onnx`` (:class:`avs.method.OnnxInference`). ``avs export onnx METHOD CKPT``
(:mod:`avs.onnx_export`, needs torch and the ``onnx`` extra) writes the sidecar ``CKPT`` with the suffix
``.onnx`` beside the checkpoint, its metadata holding the checkpoint's SHA-256. At predict time
:func:`load_inference` picks the backend:

``torch``  the method's :class:`avs.impl.MethodImpl` from the checkpoint (always possible).
``onnx``   the method's :class:`OnnxRuntimeImpl`; an error when it cannot be used (no support, no
           onnxruntime, no sidecar, a sidecar of another checkpoint).
``auto``   ``onnx`` when it can be used, else ``torch``; a sidecar that exists but does not belong to the
           checkpoint is never used, and said so in a note.

Nothing here imports torch: on the ``onnx`` path the checkpoint's config and statistics are read from its
safetensors header (:func:`avs.checkpoint_header.read_header`) and the weights come from the sidecar.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from avs.errors import AvsError
from avs.motion import Motion

BACKENDS = ("auto", "torch", "onnx")
"""Values of ``avs predict --backend``."""

ONNX_FORMAT = "1"
"""Value of the ``avs_onnx_format`` metadata key of the sidecars this version writes and reads."""

EXTRA_HINT = "pip install 'avs-toolkit[onnx]'"


def check_backend(backend: str, method: Any = None) -> str:
    """``backend`` if it is one of :data:`BACKENDS` (and, for ``onnx``, ``method`` has an ONNX path).

    Raises:
        AvsError: an unknown backend; ``onnx`` for a method without ``Method.onnx``.
    """
    if backend not in BACKENDS:
        raise AvsError(f"unknown backend {backend!r} (use {', '.join(BACKENDS)})")
    if backend == "onnx" and method is not None and method.onnx is None:
        raise AvsError(f"--backend onnx: {method.name} has no ONNX inference path")
    return backend


def sidecar_path(checkpoint: str | Path) -> Path:
    """Where a checkpoint's ONNX graph lives: beside it, ``name.safetensors`` → ``name.onnx``."""
    return Path(checkpoint).with_suffix(".onnx")


def onnxruntime_available() -> bool:
    """Whether onnxruntime can be imported (without importing it)."""
    import importlib.util

    try:
        return importlib.util.find_spec("onnxruntime") is not None
    except (ImportError, ValueError):
        return False


class OnnxSession:
    """One ONNX graph in an onnxruntime CPU session, called with numpy arrays.

    Threads: ``OMP_NUM_THREADS`` when set (as torch), else onnxruntime's default (one per core).

    Attributes:
        path: the ``.onnx`` file.
        input_names: the graph's inputs, in order.
        output_names: the graph's outputs, in order.
        metadata: the graph's custom metadata (``avs_*`` keys of :func:`avs.onnx_export.export_onnx`).

    Raises:
        AvsError: onnxruntime missing, or a file it cannot read.
    """

    def __init__(self, path: str | Path) -> None:
        try:
            import onnxruntime as ort
        except ImportError:
            raise AvsError(f"the onnx backend needs onnxruntime ({EXTRA_HINT})") from None
        self.path = Path(path)
        options = ort.SessionOptions()
        threads = os.environ.get("OMP_NUM_THREADS", "")
        if threads.isdigit() and int(threads) > 0:
            options.intra_op_num_threads = int(threads)
            options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors only: no shape-inference chatter on stderr
        try:
            self.session = ort.InferenceSession(str(self.path), sess_options=options,
                                                providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph/... classes
            first = str(exc).strip().splitlines()
            raise AvsError(f"cannot read the ONNX graph {self.path}: {first[0] if first else exc}") from None
        self.input_names = tuple(i.name for i in self.session.get_inputs())
        self.output_names = tuple(o.name for o in self.session.get_outputs())
        self.metadata: dict[str, str] = dict(self.session.get_modelmeta().custom_metadata_map)

    def run(self, **inputs: np.ndarray) -> dict[str, np.ndarray]:
        """The graph's outputs by name for ``inputs`` by name (numpy arrays of the exported dtypes).

        Raises:
            AvsError: an input missing or unknown.
        """
        if set(inputs) != set(self.input_names):
            raise AvsError(f"ONNX graph {self.path.name} takes inputs {', '.join(self.input_names)}, "
                           f"got {', '.join(sorted(inputs))}")
        values = self.session.run(None, {name: np.require(v, requirements="C") for name, v in inputs.items()})
        return dict(zip(self.output_names, values, strict=True))


class OnnxRuntimeImpl:
    """Base class of a method's torch-free inference side (``Method.onnx.runtime``): ``XRuntime(cfg, stats, graph)``.

    It offers what ``avs predict`` and :class:`avs.model.Model` call on a :class:`avs.impl.MethodImpl`:
    :meth:`predict`, :meth:`renderer`, :meth:`export`. A subclass must not import torch (nor any module
    that does): share the numpy steps around the network with the torch implementation, and call the
    network through ``self.graph.run(...)``.

    Attributes:
        cfg: the checkpoint's config with the user's overrides (OmegaConf, typed by ``config_class``).
        stats: the checkpoint's normalisation statistics.
        graph: the :class:`OnnxSession` of the checkpoint's sidecar.
        method: the :class:`avs.method.Method` record (set by core).
        backend: ``"onnx"``.
    """

    method: ClassVar[Any] = None
    backend: ClassVar[str] = "onnx"

    def __init__(self, cfg: Any, stats: Mapping[str, np.ndarray], graph: OnnxSession) -> None:
        self.cfg = cfg
        self.stats = dict(stats)
        self.graph = graph

    def predict(self, audio: np.ndarray, inputs: Mapping[str, Path] | None = None) -> Motion:
        """As :meth:`avs.impl.MethodImpl.predict`: (S,) float32 mono audio at ``method.sample_rate`` → Motion.

        Raises:
            AvsError: always, unless overridden ("<name> cannot predict").
        """
        raise AvsError(f"{self._name()} cannot predict")

    def renderer(self) -> Any:
        """As :meth:`avs.impl.MethodImpl.renderer`.

        Raises:
            AvsError: always, unless overridden.
        """
        raise AvsError(f"{self._name()} cannot render video")

    def export(self, motion: Motion, video_path: Path) -> list[Path]:
        """As :meth:`avs.impl.MethodImpl.export`: extra files beside the mp4 (default none)."""
        return []

    def _name(self) -> str:
        return self.method.name if self.method is not None else type(self).__name__


def check_sidecar(method: Any, checkpoint: Path, metadata: Mapping[str, str]) -> str | None:
    """Why the sidecar with ``metadata`` does not belong to ``checkpoint`` of ``method``, or None.

    The sidecar must be of this format, of this method, and exported from a file with the checkpoint's
    SHA-256 (so a retrained or replaced checkpoint never runs with stale weights).
    """
    from avs.checkpoint_header import file_sha256

    fmt = metadata.get("avs_onnx_format")
    if fmt != ONNX_FORMAT:
        return f"it is not an avs ONNX sidecar of format {ONNX_FORMAT} (found {fmt!r})"
    if metadata.get("avs_method") != method.name:
        return f"it was exported for method {metadata.get('avs_method')!r}, not {method.name!r}"
    if metadata.get("avs_checkpoint_sha256") != file_sha256(checkpoint):
        return f"it was exported from another checkpoint than {checkpoint.name} (SHA-256 differs)"
    return None


@dataclass(frozen=True)
class Inference:
    """What :func:`load_inference` loaded.

    Attributes:
        impl: a :class:`avs.impl.MethodImpl` (``backend == "torch"``) or an :class:`OnnxRuntimeImpl`.
        backend: ``"torch"`` or ``"onnx"``.
        notes: why ``auto`` did not take an ONNX graph that exists (empty otherwise).
    """

    impl: Any
    backend: str
    notes: tuple[str, ...] = ()


def _onnx_impl(method: Any, checkpoint: Path, overrides: list[str], sidecar: Path) -> tuple[Any, str | None]:
    """(runtime impl, None), or (None, why the sidecar cannot be used)."""
    from avs.checkpoint_header import read_header
    from avs.config import build_config

    header = read_header(checkpoint, method)  # before the graph: a bad checkpoint is the user's error
    try:
        graph = OnnxSession(sidecar)
    except AvsError as exc:  # a corrupt or truncated sidecar
        return None, str(exc)
    problem = check_sidecar(method, checkpoint, graph.metadata)
    if problem is not None:
        return None, problem
    cls = method.onnx.runtime.resolve() if hasattr(method.onnx.runtime, "resolve") else method.onnx.runtime
    if not (isinstance(cls, type) and issubclass(cls, OnnxRuntimeImpl)):
        raise AvsError(f"method {method.name}: onnx runtime {method.onnx.runtime!r} is not a subclass of "
                       "avs.api.OnnxRuntimeImpl")
    cls.method = method
    cfg = build_config(method.config_class, None, overrides, base=header.config)
    return cls(cfg, header.stats, graph), None


def load_inference(method: Any, checkpoint: str | Path, overrides: Iterable[str] = (), device: str = "cpu",
                   backend: str = "auto", on_note: Callable[[str], None] | None = None) -> Inference:
    """The method's implementation for inference from ``checkpoint``, on the backend asked for.

    Args:
        method: an :class:`avs.method.Method`.
        checkpoint: its ``.safetensors`` checkpoint (the ONNX graph, if any, is :func:`sidecar_path`).
        overrides: ``key=value`` config overrides.
        device: ``cpu``, ``cuda`` or ``auto`` (the onnx backend runs on the CPU: ``auto`` takes torch for
            any other device).
        backend: ``auto``, ``torch`` or ``onnx`` (module docstring).
        on_note: called with each note (default: :func:`warnings.warn`).

    Raises:
        AvsError: an unknown backend; ``onnx`` asked for and not usable (the reason named); anything
            :func:`avs.checkpoint.load_impl` raises (bad checkpoint, bad override).
    """
    check_backend(backend)
    checkpoint, overrides = Path(checkpoint), list(overrides)
    notes: list[str] = []
    if backend != "torch":
        sidecar = sidecar_path(checkpoint)
        reason: str | None = None
        if method.onnx is None:
            reason = f"{method.name} has no ONNX inference path"
        elif device != "cpu" and backend == "auto":
            reason = f"device {device}: the ONNX path runs on the CPU"
        elif not onnxruntime_available():
            reason = f"onnxruntime is not installed ({EXTRA_HINT})"
        elif not sidecar.is_file():
            reason = (f"no ONNX graph {sidecar} beside the checkpoint "
                      f"(make one: avs export onnx {method.name} {checkpoint})")
        else:
            impl, problem = _onnx_impl(method, checkpoint, overrides, sidecar)
            if impl is not None:
                return Inference(impl, "onnx")
            reason = f"ignoring {sidecar}: {problem}; re-export it with: avs export onnx {method.name} {checkpoint}"
            if backend == "auto":
                notes.append(reason + " (using torch)")
        if backend == "onnx":
            raise AvsError(f"--backend onnx: {reason}")
    for note in notes:
        (on_note or _warn)(note)
    from avs.checkpoint import load_impl

    return Inference(load_impl(method, checkpoint, overrides, device), "torch", tuple(notes))


def _warn(message: str) -> None:
    warnings.warn(message, stacklevel=3)
