"""Plugin discovery: entry points, third-party plugins, broken-plugin isolation, cheap import."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from avs.errors import AvsError
from avs.plugins import discover
from cli_helpers import run_cli


def test_first_party_s2g_is_found_and_ok():
    registry = discover()
    method = registry.get("s2g")
    assert method.task == "gesture-2d"
    assert method.fps == 15.0 and method.sample_rate == 16000
    assert not [b for b in registry.broken if b.info.name == "s2g"]


def test_third_party_and_broken_plugins(fixture_plugins, monkeypatch):
    monkeypatch.syspath_prepend(str(fixture_plugins))
    registry = discover()
    wave, info = registry.methods["wave"]
    assert info.distribution == "avs-wave" and info.version == "0.3.1"
    broken = {b.info.name: b.error for b in registry.broken}
    assert "ModuleNotFoundError" in broken["broken"]
    assert "avs_dependency_that_is_not_installed" in broken["broken"]
    assert "not avs.method.Method" in broken["badrecord"]
    # the others keep working
    assert "s2g" in registry.methods
    with pytest.raises(AvsError, match="broken"):
        registry.get("broken")
    with pytest.raises(AvsError, match="unknown plugin 'nope'"):
        registry.get("nope")


def test_cli_lists_broken_plugins_and_runs_plugin_commands(fixture_plugins):
    env = {"PYTHONPATH": os.pathsep.join([str(fixture_plugins), os.environ.get("PYTHONPATH", "")])}
    result = run_cli("plugins", env_extra=env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any("wave" in ln and "0.3.1" in ln and "ok" in ln for ln in lines)
    assert any("broken" in ln and "ModuleNotFoundError" in ln for ln in lines)
    assert any("s2g" in ln and "ok" in ln for ln in lines)

    hello = run_cli("wave-hello", "--name", "tester", env_extra=env)
    assert hello.returncode == 0, hello.stderr
    assert "hello tester from avs-wave" in hello.stdout

    info = run_cli("info", "wave", env_extra=env)
    assert info.returncode == 0 and "gain: 100.0" in info.stdout

    bad = run_cli("info", "broken", env_extra=env)
    assert bad.returncode == 2
    assert bad.stderr.strip().startswith("error: plugin 'broken' is installed but broken")
    assert "Traceback" not in bad.stderr


def test_listing_plugins_does_not_import_torch():
    code = (
        "import sys\n"
        "from avs.cli import main\n"
        "main(['plugins'])\n"
        "main(['info', 's2g'])\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
        "print('NO_TORCH')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "NO_TORCH" in result.stdout


def test_unknown_plugin_is_one_line_exit_2():
    result = run_cli("predict", "nosuchmethod", "x.wav")
    assert result.returncode == 2
    line = result.stderr.strip()
    assert line.startswith("error: unknown plugin 'nosuchmethod' (installed: ") and "s2g" in line, line
