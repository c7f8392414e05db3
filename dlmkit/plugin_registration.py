"""What a plugin's ``register(name, factory, params, summary, override)`` checks before an entry joins the
registry: the name, the factory, the params class and its own defaults, and the kind's interface."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import attrs

from dlmkit.errors import PluginConflict
from dlmkit.interface_check import interface_checked
from dlmkit.registry import Entry, Registry

_SIMPLE_TYPES: dict[str, tuple[type, ...]] = {"int": (int,), "float": (int, float), "str": (str,), "bool": (bool,)}


def default_problem(params: type) -> str:
    """What is wrong with a params class's own defaults ("" when nothing).

    A recipe that leaves a key out gets the default, so a default of the wrong type, or one that fails
    its own validator, is the plugin's bug: reported at registration, not blamed on the recipe later.
    """
    complete = True
    for field in attrs.fields(params):
        if field.default is attrs.NOTHING:
            complete = False  # a required key: the class cannot be built from defaults alone
            continue
        default = field.default.factory() if isinstance(field.default, attrs.Factory) else field.default  # type: ignore[arg-type]
        type_name = field.type if isinstance(field.type, str) else getattr(field.type, "__name__", "")
        allowed = _SIMPLE_TYPES.get(type_name)
        if allowed is None or default is None:
            continue
        if not isinstance(default, allowed) or (isinstance(default, bool) and bool not in allowed):
            return f"has default {field.name} = {default!r}, which is not a {type_name}"
    if complete:
        try:
            params()
        except Exception as exc:
            return f"has defaults that fail its own validators: {type(exc).__name__}: {exc}"
    return ""


#: What a component may be called: recipes name it, and stage kinds and metrics become file and folder names.
COMPONENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def make_register(registry: Registry, kind: str, provider: str, version: str, plugin_name: str) -> Callable[..., None]:
    def register(
        name: str, factory: Callable[..., Any], params: type | None = None, summary: str = "", override: bool = False
    ) -> None:
        where = f"plugin '{plugin_name}' ({provider} {version})"
        if not isinstance(name, str) or not name:
            raise PluginConflict(f"{where} registered a {kind} with an empty or non-string name")
        if not COMPONENT_NAME.fullmatch(name):
            raise PluginConflict(
                f"{where} registered {kind} {name!r}: a name is letters, digits, '_', '-' or '.', starting with a "
                "letter or digit (recipes and folder names use it)"
            )
        if not callable(factory):
            raise PluginConflict(f"{where}: the factory of {kind} '{name}' is not callable")
        if params is not None and not (isinstance(params, type) and attrs.has(params)):
            raise PluginConflict(
                f"{where}: the params of {kind} '{name}' must be an attrs class (decorate it with @attrs.frozen), "
                f"got {params!r}"
            )
        if params is not None:
            wrong = default_problem(params)
            if wrong:
                raise PluginConflict(f"{where}: the params of {kind} '{name}' ({params.__qualname__}) {wrong}")
        if not summary:
            doc = (factory.__doc__ or "").strip()
            summary = doc.splitlines()[0] if doc else ""
        checked = interface_checked(kind, name, where, factory)
        registry.add(Entry(kind, name, checked, params, provider, version, summary), override=override)

    return register
