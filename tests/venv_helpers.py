"""Offline, fast throw-away virtual environments for installation tests.

A fresh venv (no pip inside) sees the test venv's third-party packages (torch, numpy, ...)
through a folder of symbolic links, *without* the test venv's own avs distributions, their
editable-install hooks or ``.pth`` files; the packages under test are then installed into it
from wheels with ``pip --python`` and ``--no-index --no-deps``. Nothing is downloaded.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

# What of the test venv's site-packages the new venv must not see: the avs distributions
# under test (installed editable here) and any start-up hooks.
_HIDDEN_PREFIXES = ("avs", "_avs", "__editable__", "__pycache__")


def _hidden(name: str) -> bool:
    return name.lower().startswith(_HIDDEN_PREFIXES) or name.endswith(".pth")


def make_venv(root: Path) -> Path:
    """Create ``root`` as a venv whose only extra packages are the test venv's third-party ones.

    Returns:
        Its python executable.
    """
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    python = root / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    deps = root / "deps"
    deps.mkdir()
    ours = Path(sysconfig.get_paths()["purelib"])
    for entry in ours.iterdir():
        if not _hidden(entry.name):
            os.symlink(entry, deps / entry.name)
    # a plain path line: appended after the venv's own site-packages, its .pth files are not run
    Path(purelib, "_test_deps.pth").write_text(f"{deps}\n")
    return python


_IGNORE = shutil.ignore_patterns("__pycache__", "*.egg-info", "build", ".venv", "tests", "runs", "out")


def build_wheel(source: Path, work: Path, out: Path, include: tuple[str, ...] | None = None) -> Path:
    """Build ``source``'s wheel offline, from a copy (the build writes ``build/`` and egg-info in place).

    Args:
        source: the project folder (holds ``pyproject.toml``).
        work: where the copy goes.
        out: the wheel folder.
        include: copy only these entries of ``source`` (default: all but caches, builds and tests).

    Returns:
        The ``.whl`` file.
    """
    copy = work / source.name
    if include is None:
        shutil.copytree(source, copy, ignore=_IGNORE)
    else:
        copy.mkdir(parents=True)
        for name in include:
            item = source / name
            if item.is_dir():
                shutil.copytree(item, copy / name, ignore=_IGNORE)
            else:
                shutil.copy2(item, copy / name)
    before = set(out.glob("*.whl")) if out.is_dir() else set()
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--no-index", "--wheel-dir", str(out), str(copy)], check=True, capture_output=True)
    (new,) = set(out.glob("*.whl")) - before
    return new


def pip_install(python: Path, *args: str) -> None:
    """``pip install --no-index --no-deps ARGS`` into the venv of ``python`` (pip runs from the test venv)."""
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-index",
                    "--no-deps", "--no-build-isolation", *args], check=True, capture_output=True)
