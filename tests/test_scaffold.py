"""``avs plugin new``: the scaffolded plugin installs with pip and passes its own tests out of the box.

The end-to-end test installs the generated package as a user would (pip, not editable, into a
target folder put on ``PYTHONPATH`` so the test venv stays clean), then runs the generated
tests, which run :func:`avs.testing.check_method` (synth, train, predict, evaluate, bad input),
and then ``avs benchmark`` on the method.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from avs.errors import AvsError
from avs.scaffold import FILES, TEMPLATES, new_plugin, plugin_names
from cli_helpers import assert_one_error_line, run_cli


def test_names():
    assert plugin_names("head-nod") | {} == {"name": "head-nod", "stem": "head_nod", "module": "avs_head_nod",
                                            "dist": "avs-head-nod", "Class": "HeadNod",
                                            "avs_version": plugin_names("x")["avs_version"]}
    for bad in ("Nod", "1nod", "nod_x", "nod--x", "-nod", ""):
        with pytest.raises(AvsError, match="lower case"):
            plugin_names(bad)


def test_every_template_is_used_and_filled(tmp_path: Path):
    assert {p.name for p in TEMPLATES.glob("*.tmpl")} == set(FILES.values())
    files = new_plugin("nod", tmp_path / "avs-nod")
    assert len(files) == len(FILES) and all(f.is_file() for f in files)
    for f in files:
        assert "{{" not in f.read_text(), f
    assert (tmp_path / "avs-nod" / "avs_nod" / "method.py").read_text().count("class NodMethod(MethodImpl)") == 1
    assert '"nod" = "avs_nod.plugin"' in (tmp_path / "avs-nod" / "pyproject.toml").read_text()


def test_generated_code_is_lint_clean(tmp_path: Path):
    pytest.importorskip("ruff")
    new_plugin("nod", tmp_path / "avs-nod")
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "."], cwd=tmp_path / "avs-nod",
                            capture_output=True, text=True)  # with the generated pyproject's settings
    assert result.returncode == 0, result.stdout + result.stderr


def test_cli_refuses_bad_name_and_taken_folder(tmp_path: Path):
    assert_one_error_line(run_cli("plugin", "new", "Bad_Name", cwd=tmp_path), "lower case")
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "file").write_text("x")
    assert_one_error_line(run_cli("plugin", "new", "nod", "taken", cwd=tmp_path), "not an empty folder")
    result = run_cli("plugin", "new", "nod", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "avs-nod" / "pyproject.toml").is_file()


@pytest.mark.slow
def test_scaffold_installs_and_passes_its_own_tests(tmp_path: Path):
    result = run_cli("plugin", "new", "nod", "avs-nod", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    source, site = tmp_path / "avs-nod", tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--no-index", "--target", str(site), str(source)], check=True, capture_output=True)
    env = {"PYTHONPATH": os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH", "")]))}

    listed = run_cli("plugins", env_extra=env)
    assert any(" nod " in line and " ok " in line for line in listed.stdout.splitlines()), listed.stdout

    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], cwd=source,
                           capture_output=True, text=True, env=dict(os.environ, OMP_NUM_THREADS="1", **env),
                           timeout=1800)
    assert tests.returncode == 0, tests.stdout[-4000:] + tests.stderr[-2000:]
    assert " passed" in tests.stdout and "failed" not in tests.stdout

    # and it enters avs benchmark with the checkpoint it trains
    data = tmp_path / "data"
    assert run_cli("data", "synth", "nod", str(data), env_extra=env).returncode == 0
    trained = run_cli("train", "nod", "--data", str(data), "--out", str(tmp_path / "run"), "train.epochs=1",
                      "train.iterations_per_epoch=5", env_extra=env)
    assert trained.returncode == 0, trained.stderr
    ckpt = tmp_path / "run" / "best.safetensors"
    bench = run_cli("benchmark", "--data", str(data), "--methods", "nod", "--checkpoint", f"nod={ckpt}",
                    "--out", str(tmp_path / "report"), env_extra=env)
    assert bench.returncode == 0, bench.stderr
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    assert "nod" in json.dumps(report)


def test_generated_package_uses_only_the_public_api(tmp_path: Path):
    """The package imports avs only through avs.api; its tests also through avs.testing."""
    import ast

    root = tmp_path / "avs-nod"
    new_plugin("nod", root)
    for path in root.rglob("*.py"):
        allowed = {"avs.api", "avs.testing"} if "tests" in path.parts else {"avs.api"}
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([node.module] if isinstance(node, ast.ImportFrom) and node.module else
                     [a.name for a in node.names] if isinstance(node, ast.Import) else [])
            for name in names:
                if name == "avs" or name.startswith("avs."):
                    assert name in allowed, f"{path.relative_to(root)}:{node.lineno} imports {name}"
