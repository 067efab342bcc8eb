"""Plugin discovery: entry-point group ``avs.plugins`` + pluggy hooks (project name ``avs``).

A plugin distribution declares::

    [project.entry-points."avs.plugins"]
    mymethod = "avs_mymethod.plugin"

and that module implements any of the hooks below with ``@avs.plugins.hookimpl``.
Importing the module must be cheap (no torch): heavy imports go inside factories.

A plugin that fails to import, or whose hook raises or returns a bad record, is kept
as a :class:`BrokenPlugin` with its error; every other plugin keeps working.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

import pluggy

from avs.errors import AvsError
from avs.method import Method

PROJECT = "avs"
ENTRY_POINT_GROUP = "avs.plugins"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


class AvsHookSpec:
    """The hooks a plugin may implement."""

    @hookspec
    def avs_methods(self) -> list[Method]:
        """Return the :class:`~avs.method.Method` records this plugin provides."""

    @hookspec
    def avs_metrics(self) -> list[Any]:
        """Return extra metrics (objects following :class:`avs.protocols.Metric`)."""

    @hookspec
    def avs_register_commands(self, app: Any) -> None:
        """Add sub-commands to the Typer ``app`` (the datasette pattern)."""


@dataclass(frozen=True)
class PluginInfo:
    """One discovered plugin module: the entry point's name, distribution and version."""

    name: str
    module: str
    distribution: str
    version: str


@dataclass(frozen=True)
class BrokenPlugin:
    """A plugin that could not be loaded, and why (one line)."""

    info: PluginInfo
    error: str


@dataclass
class Registry:
    """What discovery found: methods by name, broken plugins, and the pluggy manager."""

    manager: pluggy.PluginManager
    methods: dict[str, tuple[Method, PluginInfo]]
    broken: list[BrokenPlugin]

    def get(self, name: str) -> Method:
        """The method called ``name``.

        Raises:
            AvsError: if no installed plugin provides it (or its plugin is broken).
        """
        if name in self.methods:
            return self.methods[name][0]
        for bad in self.broken:
            if bad.info.name == name:
                raise AvsError(f"plugin {name!r} is installed but broken: {bad.error}")
        known = ", ".join(sorted(self.methods)) or "none"
        raise AvsError(f"unknown plugin {name!r} (installed: {known}; see 'avs plugins')")


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def discover() -> Registry:
    """Load every plugin of the ``avs.plugins`` entry-point group.

    Returns:
        A :class:`Registry`. Never raises for a plugin's fault: such a plugin is
        listed in ``Registry.broken``.
    """
    manager = pluggy.PluginManager(PROJECT)
    manager.add_hookspecs(AvsHookSpec)
    methods: dict[str, tuple[Method, PluginInfo]] = {}
    broken: list[BrokenPlugin] = []
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        dist = getattr(ep, "dist", None)
        info = PluginInfo(ep.name, ep.value, dist.name if dist else "?", dist.version if dist else "?")
        try:
            module = importlib.import_module(ep.value)
            manager.register(module, name=ep.name)
            found = module.avs_methods() if hasattr(module, "avs_methods") else []
            for method in found or []:
                if not isinstance(method, Method):
                    raise AvsError(f"avs_methods returned {type(method).__name__}, not avs.method.Method")
                method.validate_record()
                if method.name in methods:
                    raise AvsError(f"method {method.name!r} is also provided by {methods[method.name][1].distribution}")
            for method in found or []:
                methods[method.name] = (method, info)
        except Exception as exc:  # a broken plugin must never take the others down
            if manager.get_plugin(ep.name) is not None:
                manager.unregister(name=ep.name)
            broken.append(BrokenPlugin(info, _one_line(exc)))
    return Registry(manager, methods, broken)
