"""Plugin discovery and loading on pluggy.

Built-in components register through the same hooks as third-party plugins.  Each entry point of
the ``dlmkit`` group is loaded on its own: one that fails to import or to validate is recorded
(name, distribution, error) and reported by ``dlmkit plugins`` instead of taking the CLI down,
unless strict mode (``--strict-plugins`` or ``DLMKIT_STRICT_PLUGINS=1``) makes it fatal.
"""

from __future__ import annotations

import copy
import importlib
import importlib.metadata as metadata
import os
import sys
import traceback
from types import ModuleType
from typing import Any

import attrs
import pluggy

import dlmkit.hookspecs as hookspecs
from dlmkit.errors import PluginConflict, PluginLoadError
from dlmkit.hook_errors import explain_hook_error
from dlmkit.plugin_deadline import call_with_deadline, raised_by_plugin
from dlmkit.plugin_registration import make_register
from dlmkit.registry import KINDS, Registry

ENTRY_POINT_GROUP = "dlmkit"

BUILTIN_MODULES: tuple[str, ...] = (
    "dlmkit.schedules",
    "dlmkit.samplers",
    "dlmkit.injectors",
    "dlmkit.objectives",
    "dlmkit.metrics",
    "dlmkit.data",
    "dlmkit.teacher_losses",
    "dlmkit.timestep_samplers",
    "dlmkit.stages",
)


@attrs.frozen
class PluginInfo:
    """A loaded plugin as ``dlmkit plugins`` shows it."""

    name: str
    distribution: str
    version: str
    hooks: tuple[str, ...]
    builtin: bool


@attrs.frozen
class PluginFailure:
    """A plugin that could not be loaded, with the reason."""

    name: str
    distribution: str
    version: str
    error: str
    details: str


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def strict_mode() -> bool:
    return _env_flag("DLMKIT_STRICT_PLUGINS")


@attrs.define
class Plugins:
    """The plugin manager plus what we learned while loading: provenance, failures, the registry."""

    manager: pluggy.PluginManager
    provenance: dict[str, tuple[str, str, bool]] = attrs.field(factory=dict)
    failures: list[PluginFailure] = attrs.field(factory=list)
    _registry: Registry | None = None
    _muted: set[str] = attrs.field(factory=set)

    @property
    def hook(self) -> Any:
        return self.manager.hook

    def register_plugin(
        self, plugin: ModuleType | object, name: str, distribution: str, version: str, builtin: bool
    ) -> None:
        """Register one plugin object, validating its hook implementations right away."""
        try:
            self.manager.register(plugin, name=name)
            self.manager.check_pending()
        except Exception as exc:
            if self.manager.is_registered(plugin):
                self.manager.unregister(plugin)
            self._fail(name, distribution, version, explain_hook_error(plugin, name, exc))
            return
        self.provenance[name] = (distribution, version, builtin)
        self._registry = None

    def unregister_plugin(self, plugin: ModuleType | object) -> None:
        """Remove a plugin registered with ``register_plugin``; the registry is rebuilt without it."""
        name = self.manager.get_name(plugin)
        self.manager.unregister(plugin)
        self.provenance.pop(name or "", None)
        self._registry = None

    def _fail(self, name: str, distribution: str, version: str, exc: BaseException) -> None:
        error = f"{type(exc).__name__}: {exc}"
        if strict_mode():
            raise PluginLoadError(f"plugin '{name}' ({distribution} {version}) failed to load: {error}") from exc
        details = "".join(traceback.format_exception(exc))
        if any(f.name == name and f.error == error for f in self.failures):
            return  # the registry is rebuilt after each plugin change: report each failure once
        self.failures.append(PluginFailure(name, distribution, version, error, details))

    def notify(self, hook_name: str, **kwargs: Any) -> None:
        """Call a lifecycle hook (``on_log``, ``on_stage_start``, ...) on every plugin, each in isolation.

        A plugin whose hook raises (``SystemExit`` included) cannot stop the run: the error is
        reported once, attributed to the plugin, listed by ``dlmkit plugins``, and its hook skipped.
        """
        for impl in getattr(self.manager.hook, hook_name).get_hookimpls():
            key = f"{impl.plugin_name}.{hook_name}"
            if key in self._muted:
                continue
            arguments = {
                k: copy.deepcopy(kwargs[k]) if isinstance(kwargs[k], dict | list) else kwargs[k] for k in impl.argnames
            }
            try:  # a copy of each value: a hook that edits a summary or metrics cannot change the run's own
                call_with_deadline(impl.function, f"plugin '{impl.plugin_name}' {hook_name}", **arguments)
            except (Exception, SystemExit, KeyboardInterrupt) as exc:
                if isinstance(exc, KeyboardInterrupt) and not raised_by_plugin(exc):
                    raise  # the user's Ctrl-C, which arrived while the hook ran
                if strict_mode():
                    raise
                self._muted.add(key)
                distribution, version, _ = self.provenance.get(impl.plugin_name, (impl.plugin_name, "", False))
                sys.stderr.write(
                    f"warning: plugin '{impl.plugin_name}' ({distribution} {version}) raised in {hook_name}: "
                    f"{type(exc).__name__}: {exc}; its {hook_name} is skipped for the rest of this run\n"
                )
                self._fail(impl.plugin_name, distribution, version, exc)

    def infos(self) -> list[PluginInfo]:
        out = []
        for name, plugin in self.manager.list_name_plugin():
            distribution, version, builtin = self.provenance.get(name, (name, "", False))
            hooks = tuple(sorted(h.name for h in self.manager.get_hookcallers(plugin) or []))
            out.append(PluginInfo(name, distribution, version, hooks, builtin))
        return sorted(out, key=lambda p: (not p.builtin, p.name))

    @property
    def registry(self) -> Registry:
        if self._registry is None:
            self._registry = self._collect()
        return self._registry

    def _collect(self) -> Registry:
        """Call every registration hook implementation with a ``register`` bound to its provider.

        A plugin whose registration raises (a duplicate name, a bad factory, any exception, ``SystemExit`` or
        ``KeyboardInterrupt``) is listed as failed and the rest of the registry is built without that hook's entries,
        so one broken plugin cannot take ``validate``, ``components`` or ``run`` down for the others
        (``DLMKIT_STRICT_PLUGINS=1`` raises instead).
        """
        registry = Registry()
        for kind, spec in KINDS.items():
            caller = getattr(self.manager.hook, spec.hook)
            for impl in caller.get_hookimpls():  # registration order: built-ins first
                distribution, version, _ = self.provenance.get(impl.plugin_name, (impl.plugin_name, "", False))
                register = make_register(registry, kind, distribution, version, impl.plugin_name)
                before = dict(registry.entries[kind])
                try:
                    impl.function(register)
                except (Exception, SystemExit, KeyboardInterrupt) as exc:  # registration is instant: the plugin's
                    registry.entries[kind] = before  # all of a failed hook's entries go, not the ones before the error
                    self._fail(impl.plugin_name, distribution, version, exc)
        return registry


def _load_entry_points(plugins: Plugins) -> None:
    allow = {n.strip() for n in os.environ.get("DLMKIT_PLUGINS", "").split(",") if n.strip()}
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        if allow and ep.name not in allow:
            continue
        distribution = ep.dist.name if ep.dist is not None else ep.value
        version = ep.dist.version if ep.dist is not None else ""
        if plugins.manager.has_plugin(ep.name):
            plugins._fail(
                ep.name,
                distribution,
                version,
                PluginConflict(f"entry point name '{ep.name}' is used by more than one distribution"),
            )
            continue
        try:
            module = call_with_deadline(ep.load, f"the import of plugin '{ep.name}'")
        except (Exception, SystemExit, KeyboardInterrupt) as exc:  # a plugin's import must not end or hang dlmkit
            if isinstance(exc, KeyboardInterrupt) and not raised_by_plugin(exc):
                raise
            plugins._fail(ep.name, distribution, version, exc)
            continue
        plugins.register_plugin(module, ep.name, distribution, version, builtin=False)


def create_plugins(load_entry_points: bool | None = None) -> Plugins:
    """A fresh plugin manager with built-ins and (unless disabled) installed entry points."""
    from dlmkit.version import __version__

    manager = pluggy.PluginManager("dlmkit")
    manager.add_hookspecs(hookspecs)
    plugins = Plugins(manager)
    for module_name in BUILTIN_MODULES:
        plugins.register_plugin(importlib.import_module(module_name), module_name, "dlmkit", __version__, builtin=True)
    if load_entry_points is None:
        load_entry_points = not _env_flag("DLMKIT_DISABLE_PLUGIN_AUTOLOAD")
    if load_entry_points:
        _load_entry_points(plugins)
    return plugins


_PLUGINS: Plugins | None = None


def get_plugins() -> Plugins:
    """The process-wide plugin manager, created on first use."""
    global _PLUGINS
    if _PLUGINS is None:
        _PLUGINS = create_plugins()
    return _PLUGINS


def reset_plugins() -> None:
    """Forget the process-wide plugin manager (tests; after installing a plugin)."""
    global _PLUGINS
    _PLUGINS = None


def get_registry() -> Registry:
    return get_plugins().registry


def failed_plugins_note() -> str:
    """``"; note: some plugins failed to load: ..."`` when any did (so a missing name says why), else ``""``."""
    failures = get_plugins().failures
    if not failures:
        return ""
    names = ", ".join(f"{f.distribution} ({f.error})" for f in failures)
    return f"; note: some plugins failed to load: {names} (see `dlmkit plugins`)"


def replaced_components() -> list[Any]:
    """Registry entries a plugin registered with ``override=True`` over another provider's, by kind and name."""
    registry = get_registry()
    return [e for kind in registry.entries.values() for e in kind.values() if e.overrides]


def make_params(kind: str, name: str, **values: Any) -> Any:
    """The params of a registered component: its defaults, with ``values`` set."""
    return get_registry().get(kind, name).make_params(**values)


def build(kind: str, name: str, params: Any = None, **context: Any) -> Any:
    """A registered component of ``kind`` called ``name``, from ``params`` (defaults when ``None``)."""
    return get_registry().build(kind, name, params, **context)
