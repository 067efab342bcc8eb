"""Plugin discovery: entry-point group ``avs.plugins`` + pluggy hooks (project name ``avs``).

A plugin distribution declares::

    [project.entry-points."avs.plugins"]
    mymethod = "avs_mymethod.plugin"

and that module implements any of the hooks below with ``@avs.api.hookimpl``.
Importing the module must be cheap (no torch): heavy imports go inside the implementation
class (``Method.impl = lazy("avs_mymethod.method:MyMethod")``).

Core's own task suites come from the built-in plugin :mod:`avs.suites`, registered first
through the same hooks (the datasette pattern).

A plugin that fails to import, or whose hook raises or returns a bad record, is kept
as a :class:`BrokenPlugin` with its error; every other plugin keeps working.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
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

    @hookspec
    def avs_task_suites(self) -> list[Any]:
        """Return :class:`avs.tasks.TaskSuite` objects: how a task's clips are scored in ``avs benchmark``."""


BUILTIN_PLUGINS = ("avs.suites",)
"""Core modules registered as plugins before any installed one."""


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
    suites: dict[str, Any] = field(default_factory=dict)

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


def _methods_of(module: Any, taken: dict[str, tuple[Method, PluginInfo]]) -> list[Method]:
    found = module.avs_methods() if hasattr(module, "avs_methods") else []
    for method in found or []:
        if not isinstance(method, Method):
            raise AvsError(f"avs_methods returned {type(method).__name__}, not avs.method.Method")
        method.validate_record()
        if method.name in taken:
            raise AvsError(f"method {method.name!r} is also provided by {taken[method.name][1].distribution}")
    return list(found or [])


def _suites_of(module: Any) -> list[Any]:
    from avs.tasks import TaskSuite

    found = module.avs_task_suites() if hasattr(module, "avs_task_suites") else []
    for suite in found or []:
        if not isinstance(suite, TaskSuite):
            raise AvsError(f"avs_task_suites returned {type(suite).__name__}, not avs.tasks.TaskSuite")
    return list(found or [])


def _load(manager: pluggy.PluginManager, registry: Registry, info: PluginInfo) -> None:
    """Import and register one plugin module; on any failure record it as broken, unregistered."""
    try:
        module = importlib.import_module(info.module)
        manager.register(module, name=info.name)
        found = _methods_of(module, registry.methods)
        suites = _suites_of(module)
    except Exception as exc:  # a broken plugin must never take the others down
        if manager.get_plugin(info.name) is not None:
            manager.unregister(name=info.name)
        registry.broken.append(BrokenPlugin(info, _one_line(exc)))
        return
    from avs.config import experiment_configs

    where = getattr(module, "__file__", None)
    configs = experiment_configs(Path(where).parent / "configs") if where else {}
    for method in found:
        registry.methods[method.name] = (method.with_version(info.version).with_configs(configs), info)
    for suite in suites:
        registry.suites.setdefault(suite.task, suite)  # the first registered suite of a task wins


def discover() -> Registry:
    """Load core's built-in plugins, then every plugin of the ``avs.plugins`` entry-point group.

    Returns:
        A :class:`Registry`. Never raises for a plugin's fault: such a plugin is
        listed in ``Registry.broken``.
    """
    from avs import __version__

    manager = pluggy.PluginManager(PROJECT)
    manager.add_hookspecs(AvsHookSpec)
    registry = Registry(manager, {}, [])
    for module in BUILTIN_PLUGINS:
        _load(manager, registry, PluginInfo(module, module, "avs-toolkit", __version__))
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        dist = getattr(ep, "dist", None)
        _load(manager, registry, PluginInfo(ep.name, ep.value, dist.name if dist else "?",
                                            dist.version if dist else "?"))
    return registry
