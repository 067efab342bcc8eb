"""avs.runtime and avs.checkpoint_header: backend names, the torch-free base class, reading a checkpoint's
header without torch. (The ONNX path end to end is tested with s2g: plugins/s2g/tests/test_s2g_onnx.py.)"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from avs.errors import AvsError
from avs.method import Method, OnnxInference, lazy
from avs.runtime import BACKENDS, OnnxRuntimeImpl, check_backend, sidecar_path


def test_backend_names() -> None:
    assert BACKENDS == ("auto", "torch", "onnx")
    assert check_backend("onnx") == "onnx"
    with pytest.raises(AvsError, match="unknown backend 'cuda'"):
        check_backend("cuda")


def test_sidecar_is_beside_the_checkpoint() -> None:
    assert sidecar_path("runs/x/best.safetensors") == Path("runs/x/best.onnx")


def test_runtime_base_lacks_predict_and_render_until_overridden() -> None:
    impl = OnnxRuntimeImpl({"a": 1}, {"mean": np.zeros(2)}, graph=None)
    assert impl.backend == "onnx" and impl.export(None, Path("x.mp4")) == []
    with pytest.raises(AvsError, match="cannot predict"):
        impl.predict(np.zeros(16000, np.float32))
    with pytest.raises(AvsError, match="cannot render video"):
        impl.renderer()


def test_method_record_checks_its_onnx_field() -> None:
    from dataclasses import dataclass, field

    from avs.config import TrainConfig

    @dataclass
    class Cfg:
        train: TrainConfig = field(default_factory=TrainConfig)

    base = dict(name="x", task="gesture-2d", summary="", paper="", config_class=Cfg, sample_rate=16000, fps=15.0,
                impl=lazy("x.method:X"))
    Method(**base, onnx=OnnxInference(graph=lazy("x.e:g"), runtime=lazy("x.r:R"))).validate_record()
    with pytest.raises(AvsError, match="onnx must be an avs.api.OnnxInference"):
        Method(**base, onnx="x.onnx").validate_record()


def test_reading_a_checkpoint_header_imports_no_torch(tmp_path: Path) -> None:
    """What the ONNX path reads of a checkpoint (config, statistics) comes without torch."""
    from safetensors.numpy import save_file

    ckpt = tmp_path / "c.safetensors"
    meta = {"avs_format": "2", "networks": '["generator"]', "method": "m", "plugin_version": "1",
            "config": '{"a": 1}', "stats": '{"mean": {"dtype": "<f4", "shape": [2], "data": [1.0, 2.0]}}',
            "extra": "{}"}
    save_file({"generator.w": np.ones(3, np.float32)}, str(ckpt), metadata=meta)
    code = ("import sys; from avs.checkpoint_header import read_header, file_sha256\n"
            f"h = read_header({str(ckpt)!r}); print(h.method_name, h.config, h.stats['mean'].tolist(), h.networks,"
            f" len(file_sha256({str(ckpt)!r})), 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split("\n")[0] == "m {'a': 1} [1.0, 2.0] ('generator',) 64 False"
    from avs.checkpoint_header import read_header

    with pytest.raises(AvsError, match="not an avs checkpoint"):
        save_file({"w": np.ones(1, np.float32)}, str(tmp_path / "plain.safetensors"))
        read_header(tmp_path / "plain.safetensors")
    (tmp_path / "text.safetensors").write_text("hello")
    with pytest.raises(AvsError, match="not a valid safetensors file"):
        read_header(tmp_path / "text.safetensors")
