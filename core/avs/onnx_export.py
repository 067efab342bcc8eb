"""``avs export onnx``: a checkpoint's network exported to ONNX for the torch-free predict path.

The method says what to export (``Method.onnx.graph(impl) -> OnnxGraph``); core exports it with the
TorchScript-based ``torch.onnx.export(..., dynamo=False)`` (which needs the ``onnx`` package, not
``onnxscript``), checks onnxruntime against torch on every example input (the largest absolute difference
must be within ``Method.onnx.tolerance``) and writes the graph beside the checkpoint, atomically, with the
metadata that binds it to that checkpoint (:mod:`avs.runtime` reads it back). Batch norm is kept as a node
(not folded into the convolutions), so the weights of an fp16 checkpoint stay exact and are stored as fp16
(:func:`store_exact_fp16`: lossless, half the size).

``avs_onnx_format``      ``"1"``
``avs_method``           the method's name
``avs_checkpoint_sha256`` SHA-256 of the checkpoint file the weights came from
``avs_checkpoint``       that file's name (for people; the hash is what counts)
``avs_parity_max_abs``   the largest |onnxruntime − torch| over the example inputs
``avs_plugin_version``, ``avs_torch_version``
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from avs.checkpoint_header import file_sha256
from avs.errors import AvsError
from avs.io import atomic_path
from avs.runtime import EXTRA_HINT, ONNX_FORMAT, sidecar_path

OPSET = 18
"""ONNX opset of the exported graphs (onnxruntime ≥ 1.14 runs it)."""


@dataclass
class OnnxGraph:
    """What a method exports: a module and example inputs (``Method.onnx.graph(impl)`` returns one).

    Attributes:
        module: the ``torch.nn.Module`` to trace, in eval mode; ``forward`` takes the inputs in the order of
            ``inputs`` and returns a tensor or a tuple of tensors (one per name of ``outputs``). Integer
            arguments that vary at run time (a length) must be 0-d int64 tensors, so the trace keeps them.
        inputs: example inputs by name, traced once.
        outputs: the output names.
        dynamic_axes: ``{input or output name: {axis: symbolic name}}`` for axes that vary at run time.
        checks: further input sets (other lengths) on which onnxruntime must also agree with torch.
    """

    module: torch.nn.Module
    inputs: dict[str, torch.Tensor]
    outputs: tuple[str, ...]
    dynamic_axes: dict[str, dict[int, str]] = field(default_factory=dict)
    checks: Sequence[Mapping[str, torch.Tensor]] = ()


@dataclass(frozen=True)
class OnnxExport:
    """What :func:`export_onnx` wrote.

    Attributes:
        path: the ``.onnx`` file.
        max_abs_diff: the largest |onnxruntime − torch| over the example inputs.
        size_bytes: the file's size.
    """

    path: Path
    max_abs_diff: float
    size_bytes: int


def _outputs(module: torch.nn.Module, inputs: Mapping[str, torch.Tensor]) -> list[np.ndarray]:
    with torch.no_grad():
        out = module(*inputs.values())
    return [t.detach().float().cpu().numpy() for t in (out if isinstance(out, (tuple, list)) else (out,))]


def parity(module: torch.nn.Module, path: Path, input_sets: Sequence[Mapping[str, torch.Tensor]]) -> float:
    """The largest |onnxruntime − torch| over every output of every input set.

    Raises:
        AvsError: an output of another shape than torch's (a length the trace froze).
    """
    from avs.runtime import OnnxSession

    session = OnnxSession(path)
    worst = 0.0
    for inputs in input_sets:
        want = _outputs(module, inputs)
        got = session.run(**{k: v.detach().cpu().numpy() for k, v in inputs.items()})
        for name, w in zip(session.output_names, want, strict=True):
            g = got[name]
            if g.shape != w.shape:
                shapes = {k: tuple(v.shape) for k, v in inputs.items()}
                raise AvsError(f"the exported graph's {name!r} has shape {g.shape}, torch's {w.shape}, for inputs "
                               f"{shapes}: the module is not traceable for every length")
            worst = max(worst, float(np.abs(g.astype(np.float64) - w).max(initial=0.0)))
    return worst


def store_exact_fp16(model: Any, min_size: int = 16) -> int:
    """Store every float32 initializer whose values are all exactly fp16 (the weights of an fp16 checkpoint)
    as float16, followed by a ``Cast`` back to float32: the graph computes exactly as before, from a file
    about half the size. Returns the number of initializers converted.

    Args:
        model: an ``onnx.ModelProto``, changed in place.
        min_size: smaller tensors (scalars, shapes) are left as they are.
    """
    from onnx import TensorProto, helper, numpy_helper

    casts, converted = [], 0
    for init in model.graph.initializer:
        if init.data_type != TensorProto.FLOAT:
            continue
        values = numpy_helper.to_array(init)
        half = values.astype(np.float16)
        if values.size < min_size or not np.array_equal(half.astype(np.float32), values):
            continue
        name = init.name
        init.CopyFrom(numpy_helper.from_array(half, f"{name}.fp16"))
        casts.append(helper.make_node("Cast", [f"{name}.fp16"], [name], to=TensorProto.FLOAT, name=f"{name}.cast"))
        converted += 1
    for node in reversed(casts):  # first in the graph: nodes stay in topological order
        model.graph.node.insert(0, node)
    return converted


def export_onnx(method: Any, checkpoint: str | Path, out: str | Path | None = None,
                overrides: Sequence[str] = ()) -> OnnxExport:
    """Export ``method``'s network of ``checkpoint`` to ONNX (default: the checkpoint's sidecar path).

    Args:
        method: an :class:`avs.method.Method` with ``onnx`` set.
        checkpoint: its ``.safetensors`` checkpoint.
        out: the ``.onnx`` to write (atomically); default :func:`avs.runtime.sidecar_path`, where
            ``avs predict`` looks for it.
        overrides: ``key=value`` config overrides for building the implementation (not for model sizes).

    Returns:
        :class:`OnnxExport` (path, parity, size).

    Raises:
        AvsError: the method has no ONNX path; ``onnx``/``onnxruntime`` not installed; a bad checkpoint;
            an output not ``.onnx``; onnxruntime disagreeing with torch beyond ``method.onnx.tolerance``.
    """
    from avs.checkpoint import load_impl

    if method.onnx is None:
        raise AvsError(f"{method.name} has no ONNX inference path (its plugin sets no Method.onnx)")
    try:
        import onnx
        import onnxruntime  # noqa: F401 (checked before the long work)
    except ImportError as exc:
        raise AvsError(f"exporting to ONNX needs {exc.name} ({EXTRA_HINT})") from None
    checkpoint = Path(checkpoint)
    path = Path(out) if out is not None else sidecar_path(checkpoint)
    if path.suffix.lower() != ".onnx":
        raise AvsError(f"the ONNX output must end in .onnx, got {path}")
    impl = load_impl(method, checkpoint, list(overrides))
    graph = method.onnx.graph(impl)
    module = graph.module.eval()
    digest = file_sha256(checkpoint)
    with atomic_path(path, suffix=".onnx") as tmp:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer warnings about Python ints and asserts in forward
            # PRESERVE (the module is in eval mode): batch norm stays a node instead of being folded into the
            # convolutions, so the weights keep the checkpoint's values and fp16 ones can be stored as fp16
            torch.onnx.export(module, tuple(graph.inputs.values()), str(tmp), input_names=list(graph.inputs),
                              output_names=list(graph.outputs), dynamic_axes=graph.dynamic_axes or None,
                              opset_version=OPSET, do_constant_folding=True, dynamo=False,
                              training=torch.onnx.TrainingMode.PRESERVE)
        model = onnx.load(str(tmp))
        store_exact_fp16(model)
        onnx.save(model, str(tmp))
        worst = parity(module, tmp, [graph.inputs, *graph.checks])
        if not worst <= float(method.onnx.tolerance):
            raise AvsError(f"onnxruntime differs from torch by {worst:.3g} > {method.onnx.tolerance:g} "
                           f"({method.name}'s tolerance): not written")
        meta = {"avs_onnx_format": ONNX_FORMAT, "avs_method": method.name, "avs_checkpoint_sha256": digest,
                "avs_checkpoint": checkpoint.name, "avs_parity_max_abs": f"{worst:.3g}",
                "avs_plugin_version": str(method.version), "avs_torch_version": torch.__version__}
        del model.metadata_props[:]
        for key, value in meta.items():
            model.metadata_props.add(key=key, value=value)
        model.producer_name = "avs"
        onnx.save(model, str(tmp))
    return OnnxExport(path, worst, path.stat().st_size)
