"""``avs plugin new NAME [DIR]``: write a working third-party method plugin to start from.

The package it writes (distribution ``avs-NAME``, module ``avs_NAME``) registers the method
through the ``avs.plugins`` entry point and holds a ``Method`` record, a ``MethodImpl``
subclass with a tiny trainable network, a data reader, a synthetic data set and tests that run
:func:`avs.testing.check_method`. It uses only :mod:`avs.api` and :mod:`avs.testing`. The file
texts are the templates in ``avs/scaffold_templates`` (package data), with ``{{name}}``,
``{{module}}``, ``{{dist}}``, ``{{Class}}`` and ``{{avs_version}}`` filled in.
"""

from __future__ import annotations

import re
from pathlib import Path

from avs import __version__
from avs.errors import AvsError

TEMPLATES = Path(__file__).resolve().parent / "scaffold_templates"

# output path (with {module} and {stem}) -> template file
FILES: dict[str, str] = {
    "pyproject.toml": "pyproject.toml.tmpl",
    "README.md": "README.md.tmpl",
    "{module}/__init__.py": "__init__.py.tmpl",
    "{module}/plugin.py": "plugin.py.tmpl",
    "{module}/config.py": "config.py.tmpl",
    "{module}/features.py": "features.py.tmpl",
    "{module}/network.py": "network.py.tmpl",
    "{module}/data.py": "data.py.tmpl",
    "{module}/synth.py": "synth.py.tmpl",
    "{module}/method.py": "method.py.tmpl",
    "tests/test_{stem}.py": "test_plugin.py.tmpl",
}

_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


def plugin_names(name: str) -> dict[str, str]:
    """The names derived from a method name: ``nod-2d`` → dist ``avs-nod-2d``, module ``avs_nod_2d``, class ``Nod2d``.

    Raises:
        AvsError: ``name`` is not lower case letters, digits and single hyphens, starting with a letter.
    """
    if not _NAME.match(name or ""):
        raise AvsError(f"plugin name {name!r} must be lower case letters and digits, words joined by single "
                       "hyphens, starting with a letter (e.g. nod or head-nod)")
    stem = name.replace("-", "_")
    return {"name": name, "stem": stem, "module": f"avs_{stem}", "dist": f"avs-{name}",
            "Class": "".join(part.capitalize() for part in name.split("-")),
            "avs_version": __version__.split("+")[0]}


def render(template: str, names: dict[str, str]) -> str:
    """Fill ``{{key}}`` placeholders of ``template`` from ``names``.

    Raises:
        AvsError: a placeholder without a value (a broken template).
    """
    def fill(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in names:
            raise AvsError(f"scaffold template uses an unknown placeholder {{{{{key}}}}}")
        return names[key]

    return re.sub(r"\{\{(\w+)\}\}", fill, template)


def new_plugin(name: str, directory: str | Path | None = None) -> list[Path]:
    """Write the plugin package for method ``name`` into ``directory`` (default ``./avs-NAME``).

    The folder must not exist or be empty; it appears complete or not at all (written beside it,
    then renamed).

    Returns:
        The files written, under ``directory``.

    Raises:
        AvsError: a bad name, or ``directory`` is a file or a non-empty folder.
    """
    from avs.synth import staged_directory

    names = plugin_names(name)
    root = Path(directory) if directory is not None else Path(names["dist"])
    written = []
    with staged_directory(root) as stage:
        for target, template in FILES.items():
            relative = Path(target.format(module=names["module"], stem=names["stem"]))
            path = stage / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(render((TEMPLATES / template).read_text(), names))
            written.append(root / relative)
    return written
