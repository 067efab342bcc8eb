"""The torch-free predict path of s2g: ONNX export, parity with torch, the sidecar's binding to its
checkpoint, backend choice, and a cold ``avs predict`` that never imports torch."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnxruntime", reason="the onnx extra (pip install 'avs-toolkit[onnx]') is not installed")
pytest.importorskip("onnx", reason="the onnx extra (pip install 'avs-toolkit[onnx]') is not installed")

from avs.config import build_config  # noqa: E402
from avs.errors import AvsError  # noqa: E402
from avs.plugins import discover  # noqa: E402
from avs.runtime import load_inference, sidecar_path  # noqa: E402

REPO = Path(__file__).resolve().parents[3]
SPEECH = REPO / "examples" / "librivox_0870.wav"
PIXEL_TOLERANCE = 1e-2
"""Keypoints of the two backends agree within this many pixels (normalised poses within 1e-4, the
method's export tolerance, times a std of at most 40 px here)."""


def _method():
    return discover().get("s2g")


def _tiny_checkpoint(path: Path, seed: int, half: bool = False) -> Path:
    """A small s2g (width 8) with random weights and non-trivial batch-norm statistics, saved as a checkpoint."""
    import torch

    from avs.checkpoint import save_checkpoint
    from avs_s2g.config import S2GConfig
    from avs_s2g.method import S2GMethod

    method = _method()
    cfg = build_config(S2GConfig, overrides=["model.width=8", "model.d_width=4"])
    rng = np.random.default_rng(seed)
    stats = {"mean": rng.normal(0, 20, 98).astype(np.float32), "std": rng.uniform(5, 40, 98).astype(np.float32),
             "neck": np.array([640.0, 200.0], np.float32)}
    torch.manual_seed(seed)
    impl = S2GMethod.__new__(method.impl_class())
    S2GMethod.__init__(impl, cfg, stats)
    with torch.no_grad():
        for module in impl.generator.modules():
            if isinstance(module, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
                module.running_mean.normal_(0, 0.3)
                module.running_var.uniform_(0.5, 2.0)
    return save_checkpoint(path, {"generator": impl.generator.state_dict()}, method=method, cfg=cfg, stats=stats,
                           half=half)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny checkpoint with its ONNX sidecar (exported by core, as ``avs export onnx`` does)."""
    from avs.onnx_export import export_onnx

    ckpt = _tiny_checkpoint(tmp_path_factory.mktemp("onnx") / "tiny.safetensors", seed=0)
    result = export_onnx(_method(), ckpt)
    assert result.path == sidecar_path(ckpt) == ckpt.with_suffix(".onnx")
    assert 0 <= result.max_abs_diff <= _method().onnx.tolerance
    return ckpt


@pytest.fixture()
def tiny_copy(tiny: Path, tmp_path: Path) -> Path:
    for src in (tiny, sidecar_path(tiny)):
        shutil.copy(src, tmp_path / src.name)
    return tmp_path / tiny.name


def test_sidecar_metadata_binds_it_to_the_checkpoint(tiny: Path) -> None:
    from avs.checkpoint_header import file_sha256
    from avs.runtime import OnnxSession

    meta = OnnxSession(sidecar_path(tiny)).metadata
    assert meta["avs_method"] == "s2g" and meta["avs_onnx_format"] == "1"
    assert meta["avs_checkpoint_sha256"] == file_sha256(tiny)
    assert float(meta["avs_parity_max_abs"]) <= _method().onnx.tolerance


def test_both_backends_agree_over_several_windows(tiny: Path, speech: np.ndarray) -> None:
    """Windows of 64 frames with overlap (the long-input path) and the gate: onnxruntime ≈ torch."""
    overrides = ["infer.window_frames=64", "infer.overlap_frames=16"]
    onnx = load_inference(_method(), tiny, overrides, backend="onnx")
    ref = load_inference(_method(), tiny, overrides, backend="torch")
    assert (onnx.backend, ref.backend) == ("onnx", "torch")
    assert type(onnx.impl).__name__ == "S2GRuntime" and onnx.impl.cfg.infer.window_frames == 64
    got, want = onnx.impl.predict(speech), ref.impl.predict(speech)
    assert got.data.shape == want.data.shape == (int(15 * speech.size / 16000), 49, 2)
    assert got.kind == want.kind and got.fps == want.fps
    assert np.abs(want.data - want.data.mean(0)).max() > 1.0  # it moves: the comparison means something
    np.testing.assert_allclose(got.data, want.data, rtol=0, atol=PIXEL_TOLERANCE)


def test_auto_takes_onnx_when_the_sidecar_fits(tiny: Path) -> None:
    loaded = load_inference(_method(), tiny, backend="auto", on_note=pytest.fail)
    assert loaded.backend == "onnx" and loaded.notes == ()


def test_a_stale_sidecar_is_never_used(tiny_copy: Path) -> None:
    """A checkpoint replaced after its export (retrained): auto notes it and runs torch; onnx refuses."""
    _tiny_checkpoint(tiny_copy, seed=1)  # same path, other weights; the old sidecar stays
    notes: list[str] = []
    loaded = load_inference(_method(), tiny_copy, backend="auto", on_note=notes.append)
    assert loaded.backend == "torch" and len(notes) == 1 and loaded.notes == tuple(notes)
    assert "another checkpoint" in notes[0] and "avs export onnx s2g" in notes[0]
    with pytest.raises(AvsError, match="another checkpoint"):
        load_inference(_method(), tiny_copy, backend="onnx")


def test_a_sidecar_of_another_method_or_a_corrupt_one_is_ignored(tiny_copy: Path) -> None:
    other = dataclasses.replace(_method(), name="s2g-other")
    notes: list[str] = []
    from avs.runtime import OnnxSession, check_sidecar

    meta = OnnxSession(sidecar_path(tiny_copy)).metadata
    assert "method 's2g', not 's2g-other'" in check_sidecar(other, tiny_copy, meta)
    sidecar_path(tiny_copy).write_bytes(b"not an onnx graph")
    loaded = load_inference(_method(), tiny_copy, backend="auto", on_note=notes.append)
    assert loaded.backend == "torch" and "cannot read the ONNX graph" in notes[0]


def test_no_sidecar_or_no_onnxruntime_means_torch(tiny_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import avs.runtime

    monkeypatch.setattr(avs.runtime, "onnxruntime_available", lambda: False)
    assert load_inference(_method(), tiny_copy, backend="auto", on_note=pytest.fail).backend == "torch"
    with pytest.raises(AvsError, match=r"onnxruntime is not installed .*avs-toolkit\[onnx\]"):
        load_inference(_method(), tiny_copy, backend="onnx")
    monkeypatch.undo()
    sidecar_path(tiny_copy).unlink()
    assert load_inference(_method(), tiny_copy, backend="auto", on_note=pytest.fail).backend == "torch"
    with pytest.raises(AvsError, match="no ONNX graph .* avs export onnx s2g"):
        load_inference(_method(), tiny_copy, backend="onnx")
    with pytest.raises(AvsError, match="unknown backend"):
        load_inference(_method(), tiny_copy, backend="tensorrt")


def test_weights_of_an_fp16_checkpoint_are_stored_as_fp16_losslessly(tmp_path: Path, speech: np.ndarray) -> None:
    """An fp16 checkpoint (as bundled) gives an ONNX file of fp16 weights that computes what torch computes."""
    import onnx
    from onnx import TensorProto

    from avs.onnx_export import export_onnx

    ckpt = _tiny_checkpoint(tmp_path / "half.safetensors", seed=2, half=True)
    result = export_onnx(_method(), ckpt)
    model = onnx.load(str(result.path))
    kinds = [init.data_type for init in model.graph.initializer if len(init.dims) and np.prod(init.dims) >= 16]
    assert kinds and all(k == TensorProto.FLOAT16 for k in kinds)
    assert result.max_abs_diff <= _method().onnx.tolerance
    clip = speech[: 16000 * 4]
    got = load_inference(_method(), ckpt, backend="onnx").impl.predict(clip)
    want = load_inference(_method(), ckpt, backend="torch").impl.predict(clip)
    np.testing.assert_allclose(got.data, want.data, rtol=0, atol=PIXEL_TOLERANCE)


def test_export_refuses_a_graph_beyond_the_tolerance(tiny_copy: Path, tmp_path: Path) -> None:
    from avs.onnx_export import export_onnx

    strict = dataclasses.replace(_method(), onnx=dataclasses.replace(_method().onnx, tolerance=0.0))
    out = tmp_path / "strict.onnx"
    with pytest.raises(AvsError, match="onnxruntime differs from torch .* not written"):
        export_onnx(strict, tiny_copy, out)
    assert not out.exists() and not list(tmp_path.glob(".strict.onnx*"))


def _avs(*args: str) -> subprocess.CompletedProcess:
    """``avs ARGS`` in a fresh process that reports at exit whether torch was ever imported."""
    code = ("import atexit, sys\n"
            "atexit.register(lambda: print('TORCH-IMPORTED' if 'torch' in sys.modules else 'TORCH-FREE', "
            "file=sys.stderr))\n"
            "from avs.cli import main\n"
            f"main({list(args)!r})\n")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)


def test_cold_avs_predict_never_imports_torch_and_matches_torch(tiny: Path, tmp_path: Path) -> None:
    """The whole cold path with the default backend (auto) on bundled speech: header, numpy log-mel,
    onnxruntime, renderer, ffmpeg; its motion equals the torch backend's within the tolerance."""
    from avs.audio import load_audio

    out = tmp_path / "talk.mp4"
    proc = _avs("predict", "s2g", str(SPEECH), "--checkpoint", str(tiny), "--out", str(out), "--save-npz")
    assert proc.returncode == 0, proc.stderr
    assert "TORCH-FREE" in proc.stderr and "onnx)" in proc.stdout
    assert out.stat().st_size > 0
    got = np.load(out.with_suffix(".npz"))["keypoints"]
    ref = load_inference(_method(), tiny, backend="torch").impl.predict(load_audio(SPEECH, 16000))
    assert got.shape == (round(load_audio(SPEECH, 16000).size / 16000 * 15), 49, 2)
    np.testing.assert_allclose(got[: ref.num_frames], ref.data[: len(got)], rtol=0, atol=PIXEL_TOLERANCE)
    torch_run = _avs("predict", "s2g", str(SPEECH), "--checkpoint", str(tiny), "--out", str(tmp_path / "t.mp4"),
                     "--backend", "torch")
    assert torch_run.returncode == 0 and "TORCH-IMPORTED" in torch_run.stderr and "torch)" in torch_run.stdout


def test_avs_export_onnx_command(tiny_copy: Path, tmp_path: Path) -> None:
    sidecar_path(tiny_copy).unlink()
    proc = _avs("export", "onnx", "s2g", str(tiny_copy))
    assert proc.returncode == 0, proc.stderr
    assert f"wrote {sidecar_path(tiny_copy)}" in proc.stdout and sidecar_path(tiny_copy).is_file()
    bad = _avs("export", "onnx", "sdt", str(tiny_copy))
    assert bad.returncode == 2
    lines = [ln for ln in bad.stderr.splitlines() if not ln.startswith("TORCH")]
    assert lines == ["error: sdt has no ONNX inference path (its plugin sets no Method.onnx)"]


def test_bundled_sidecar_belongs_to_the_bundled_checkpoint() -> None:
    """The bundled graph is regenerated with the checkpoint (make onnx-sidecars); a stale one would be
    ignored at run time, but should not ship."""
    from avs.runtime import OnnxSession, check_sidecar

    method = _method()
    ckpt = method.default_checkpoint
    if ckpt is None or not sidecar_path(ckpt).is_file():
        pytest.skip("no bundled s2g checkpoint with an ONNX sidecar")
    problem = check_sidecar(method, Path(ckpt), OnnxSession(sidecar_path(ckpt)).metadata)
    assert problem is None, f"{problem}: run `make onnx-sidecars`"
    assert json.loads(json.dumps(OnnxSession(sidecar_path(ckpt)).metadata))  # plain strings


def test_python_api_load_takes_the_backend(tiny: Path, tmp_path: Path) -> None:
    from avs.api import load
    from avs.video import probe_video

    model = load("s2g", tiny, overrides=["render.height=96", "render.width=160"], backend="onnx")
    assert model.backend == "onnx" and type(model.impl).__name__ == "S2GRuntime"
    motion = model.predict(SPEECH)
    video = model.render(motion, tmp_path / "api.mp4")
    assert probe_video(video).num_frames == motion.num_frames
    assert load("s2g", tiny, backend="torch").backend == "torch"


def test_bad_backend_is_one_line_before_any_work(tmp_path: Path) -> None:
    out = tmp_path / "x.mp4"
    proc = _avs("predict", "s2g", str(SPEECH), "--out", str(out), "--backend", "tensorrt")
    assert proc.returncode == 2 and not out.exists()
    assert [ln for ln in proc.stderr.splitlines() if not ln.startswith("TORCH")] == [
        "error: unknown backend 'tensorrt' (use auto, torch, onnx)"]
    assert "TORCH-FREE" in proc.stderr
    sdt = _avs("predict", "sdt", str(SPEECH), "--out", str(out), "--backend", "onnx")
    assert sdt.returncode == 2 and "error: --backend onnx: sdt has no ONNX inference path" in sdt.stderr


def test_avs_export_onnx_refuses_a_missing_or_corrupt_checkpoint(tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.safetensors"
    corrupt.write_text("not a checkpoint")
    for path, reason in ((tmp_path / "missing.safetensors", "not found"), (corrupt, "not a valid safetensors")):
        bad = _avs("export", "onnx", "s2g", str(path))
        lines = [ln for ln in bad.stderr.splitlines() if ln.strip() and not ln.startswith("TORCH")]
        assert bad.returncode == 2 and len(lines) == 1, bad.stderr
        assert lines[0].startswith("error: ") and reason in lines[0], lines[0]
        assert "Traceback" not in bad.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corrupt.safetensors"]  # no graph written
