"""docs/plugin-guide.md: its worked plugin runs end to end, and it documents every hook and MethodImpl method."""

from __future__ import annotations

import inspect
import io
import re
from pathlib import Path

import pytest

from avs.impl import MethodImpl
from avs.plugins import AvsHookSpec

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "plugin-guide.md"


def _files(text: str) -> dict[str, str]:
    """The guide's files: the first code block after each ``### `path` `` heading."""
    files: dict[str, str] = {}
    name, body = None, None
    for line in text.splitlines():
        heading = re.match(r"^### `([^`]+)`", line)
        if heading:
            name, body = heading.group(1), None
        elif name is not None and line.startswith("```"):
            if body is None:
                body = []
            else:
                files[name], name, body = "\n".join(body) + "\n", None, None
        elif body is not None:
            body.append(line)
    return files


def test_every_hook_and_impl_method_is_documented():
    text = GUIDE.read_text(encoding="utf-8")
    hooks = [name for name in vars(AvsHookSpec) if name.startswith("avs_")]
    methods = [name for name, _ in inspect.getmembers(MethodImpl) if not name.startswith("_")
               and callable(getattr(MethodImpl, name)) and name not in {"to", "set_mode", "method_name", "cannot",
                                                                         "require"}]
    assert len(hooks) >= 4 and len(methods) >= 18
    missing = [n for n in hooks + methods if not re.search(rf"^`{n}\(", text, re.M)]
    assert missing == [], f"not documented in {GUIDE.name}: {missing}"


@pytest.fixture(scope="module")
def nod(tmp_path_factory):
    """The guide's plugin written to disk and importable; returns its Method record."""
    import sys

    root = tmp_path_factory.mktemp("avs-nod")
    files = _files(GUIDE.read_text(encoding="utf-8"))
    assert set(files) >= {"pyproject.toml", "avs_nod/plugin.py", "avs_nod/method.py"}
    for rel, body in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(body)
    (root / "avs_nod" / "__init__.py").write_text("")
    sys.path.insert(0, str(root))
    try:
        from avs_nod.plugin import avs_methods

        [method] = avs_methods()
        method.validate_record()
        yield method
    finally:
        sys.path.remove(str(root))
        for name in [m for m in sys.modules if m.startswith("avs_nod")]:
            del sys.modules[name]


def test_the_worked_plugin_trains_predicts_evaluates_and_benchmarks(nod, tmp_path):
    from rich.console import Console

    from avs.benchmark import run_benchmark
    from avs.config import build_config
    from avs.plugins import discover
    from avs.predict import evaluate_checkpoint, predict_to_video
    from avs.train import Trainer

    impl = nod.impl_class()
    assert {"synthesize_data", "predict_clips", "evaluate"} <= impl.capabilities()
    cfg = build_config(nod.config_class)
    impl.synthesize_data(tmp_path / "data", cfg, 0)
    result = Trainer(nod, build_config(nod.config_class, None, ["train.epochs=2", "train.device=cpu"]),
                     tmp_path / "data", tmp_path / "run", console=Console(file=io.StringIO())).fit()
    out = predict_to_video(nod, Path(__file__).resolve().parents[1] / "examples" / "librivox_0870.wav",
                           result.best_checkpoint, tmp_path / "nod.mp4")
    assert out.video.is_file() and out.motion.data.shape[1:] == (2, 2)
    scores = evaluate_checkpoint(nod, tmp_path / "data", result.best_checkpoint).metrics
    assert scores["head_l1_px"] >= 0
    report = run_benchmark({"nod": nod, "s2g": discover().get("s2g")}, tmp_path / "data",
                           checkpoints={"nod": result.best_checkpoint}, suites=discover().suites)
    assert {"nod", "ground truth", "mean pose"} <= set(report.rows) and "s2g" in report.skipped
    assert "head_l1_px" in report.rows["nod"] and report.directions["head_l1_px"] is False
    with pytest.raises(Exception, match="nod cannot import weights"):
        impl.import_weights(tmp_path, cfg, None)
