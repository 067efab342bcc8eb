"""Lazy re-exports for a package namespace (PEP 562): a name's module is imported on first use.

Used by :mod:`avs.api` and :mod:`avs.face`, so that importing either stays cheap (no torch,
no MediaPipe) while every public name is reachable from one place.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, namespace: dict[str, Any],
                 exports: Mapping[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for a module whose names ``exports`` maps to defining modules.

    Args:
        package: the re-exporting module's name, for the error message.
        namespace: its ``globals()``; a resolved name is cached there, so later look-ups skip ``__getattr__``.
        exports: public name → module that defines it.

    Raises:
        AttributeError: (from ``__getattr__``) a name that is not exported.
    """
    names = sorted(exports)

    def __getattr__(name: str) -> Any:  # noqa: N807 - the module-level hook's own name
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:  # noqa: N807
        return list(names)

    return __getattr__, __dir__
