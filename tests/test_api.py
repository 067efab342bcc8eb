"""The declared public API: every name resolves, importing it is cheap, and first-party plugins use nothing else."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import avs.api

REPO = Path(__file__).resolve().parents[1]
ALLOWED = {"avs.api", "avs.face"}


def test_every_declared_name_resolves():
    assert avs.api.__all__ == sorted(avs.api.__all__)
    for name in avs.api.__all__:
        assert getattr(avs.api, name) is not None, name
    with pytest.raises(AttributeError):
        avs.api.Trainer  # noqa: B018 - core's trainer is not part of the plugin API


def test_importing_the_api_does_not_import_torch():
    code = "import sys\nfrom avs.api import Method, MethodImpl, lazy, hookimpl, AvsError\nprint('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def _core_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules = [node.module]
        elif isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        else:
            continue
        where = path.relative_to(REPO) if path.is_relative_to(REPO) else path.name
        found += [f"{where}:{node.lineno} {m}" for m in modules
                  if (m == "avs" or m.startswith("avs.")) and m not in ALLOWED]
    return found


def test_first_party_plugins_import_only_the_public_api():
    packages = sorted(REPO.glob("plugins/*/avs_*"))
    assert len(packages) >= 3
    private = [hit for pkg in packages for path in sorted(pkg.rglob("*.py")) for hit in _core_imports(path)]
    assert private == [], "first-party plugins must import only avs.api (and avs.face):\n" + "\n".join(private)


def test_the_check_would_catch_a_private_import(tmp_path):
    bad = tmp_path / "probe.py"
    bad.write_text("from avs.train import Trainer\nimport avs.checkpoint\nfrom avs.api import Motion\n")
    assert [h.split(" ")[1] for h in _core_imports(bad)] == ["avs.train", "avs.checkpoint"]
